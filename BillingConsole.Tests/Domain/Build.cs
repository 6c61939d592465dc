using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;

namespace BillingConsole.Tests.Domain;

/// <summary>Small, valid domain objects for tests that care about one thing.</summary>
internal static class Build
{
    public static readonly DateTimeOffset T0 = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly Guid CustomerId = Guid.Parse("00000000-0000-0000-0000-00000000c001");
    public static readonly Guid PriceId = Guid.Parse("00000000-0000-0000-0000-00000000b001");

    public static Money Usd(decimal amount) => new(amount, "USD");

    public static InvoiceLine Line(Money amount, InvoiceLineKind kind = InvoiceLineKind.OneOff) =>
        new(kind, "Line", 1, amount, amount, T0, T0.AddMonths(1), null);

    /// <summary>A draft invoice of one $100 line (or the given lines), no tax, no credit.</summary>
    public static Invoice DraftInvoice(decimal amount = 100m) =>
        new(CustomerId, null, InvoiceKind.OneOff, "USD", T0, T0.AddMonths(1), [Line(Usd(amount))], Usd(0), Usd(0), T0);

    public static Invoice OpenInvoice(decimal amount = 100m)
    {
        var invoice = DraftInvoice(amount);
        invoice.Finalize("INV-1", T0, TimeSpan.FromDays(7));
        return invoice;
    }
}
