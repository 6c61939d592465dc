using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Subscriptions;

namespace BillingConsole.Engine.Commands;

// What the commands return: plain records with enum values in their snake_case spelling and amounts rounded to the
// currency's minor unit, the shape the API sends and the audit trail stores.

public sealed record AddressView(string Line1, string? Line2, string City, string PostalCode, string Country);

/// <param name="TimeZone">Null: the customer is in the billing time zone.</param>
public sealed record CustomerView(Guid Id, string Name, string Email, string Currency, AddressView? Address, string? ExternalRef,
    decimal CreditBalance, DateTimeOffset CreatedAt, string CollectionMethod, int? DaysUntilDue, string? TimeZone, string? TaxId)
{
    public static CustomerView From(Customer c) => new(c.Id, c.Name, c.Email, c.Currency,
        c.Address == CustomerAddress.Empty ? null : new AddressView(c.Address.Line1, c.Address.Line2, c.Address.City, c.Address.PostalCode, c.Address.Country),
        c.ExternalRef, Amounts.Of(c.CreditBalance), c.CreatedAt, c.CollectionMethod.ToSnakeCase(), c.DaysUntilDue, c.TimeZone, c.TaxId);
}

/// <summary>The gateway token is not shown back: it is only ever needed by the gateway.</summary>
public sealed record PaymentMethodView(Guid Id, Guid CustomerId, string Gateway, string Brand, string Last4, int ExpMonth, int ExpYear,
    bool IsDefault, DateTimeOffset CreatedAt)
{
    public static PaymentMethodView From(PaymentMethod p) =>
        new(p.Id, p.CustomerId, p.Gateway, p.Brand, p.Last4, p.ExpMonth, p.ExpYear, p.IsDefault, p.CreatedAt);
}

public sealed record SubscriptionView(Guid Id, Guid CustomerId, Guid PriceId, int Quantity, string Status, DateTimeOffset CurrentPeriodStart,
    DateTimeOffset CurrentPeriodEnd, DateTimeOffset? TrialEnd, bool CancelAtPeriodEnd, DateTimeOffset? CanceledAt, DateTimeOffset? PausedAt,
    Guid? PendingPriceId, int? PendingQuantity, DateTimeOffset CreatedAt)
{
    public static SubscriptionView From(Subscription s) => new(s.Id, s.CustomerId, s.PriceId, s.Quantity, s.Status.ToSnakeCase(),
        s.CurrentPeriodStart, s.CurrentPeriodEnd, s.TrialEnd, s.CancelAtPeriodEnd, s.CanceledAt, s.PausedAt, s.PendingPriceId,
        s.PendingQuantity, s.CreatedAt);
}

public sealed record InvoiceLineView(string Kind, string Description, int Quantity, decimal UnitAmount, decimal Amount,
    DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, Guid? PriceId)
{
    public static InvoiceLineView From(InvoiceLineDraft l) => new(l.Kind.ToSnakeCase(), l.Description, l.Quantity, Amounts.Of(l.UnitAmount),
        Amounts.Of(l.Amount), l.PeriodStart, l.PeriodEnd, l.PriceId);

    public static InvoiceLineView From(InvoiceLine l) =>
        From(new InvoiceLineDraft(l.Kind, l.Description, l.Quantity, l.UnitAmount, l.Amount, l.PeriodStart, l.PeriodEnd, l.PriceId));
}

/// <summary>An issued invoice, or (Id and Number null, status "preview") one calculated but not written.</summary>
public sealed record InvoiceView(Guid? Id, string? Number, string Status, string Kind, Guid CustomerId, Guid? SubscriptionId, string Currency,
    DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, IReadOnlyList<InvoiceLineView> Lines, decimal Subtotal, decimal Tax, decimal Total,
    decimal CreditApplied, decimal AmountDue, DateTimeOffset? IssuedAt, DateTimeOffset? DueAt)
{
    public const string PreviewStatus = "preview";

    public static InvoiceView From(Invoice i) => new(i.Id, i.Number, i.Status.ToSnakeCase(), i.Kind.ToSnakeCase(), i.CustomerId, i.SubscriptionId,
        i.Currency, i.PeriodStart, i.PeriodEnd, [.. i.Lines.Select(InvoiceLineView.From)], Amounts.Of(i.Subtotal), Amounts.Of(i.Tax),
        Amounts.Of(i.Total), Amounts.Of(i.CreditApplied), Amounts.Of(i.AmountDue), i.IssuedAt, i.DueAt);

    public static InvoiceView Preview(GeneratedInvoice g) => new(null, null, PreviewStatus, g.Kind.ToSnakeCase(), g.CustomerId, g.SubscriptionId,
        g.Currency, g.PeriodStart, g.PeriodEnd, [.. g.Lines.Select(InvoiceLineView.From)], Amounts.Of(g.Subtotal), Amounts.Of(g.Tax),
        Amounts.Of(g.Total), Amounts.Of(g.CreditApplied), Amounts.Of(g.AmountDue), null, null);
}

public sealed record PlanChangeQuoteView(Guid SubscriptionId, Guid FromPriceId, int FromQuantity, Guid ToPriceId, int ToQuantity, bool IsUpgrade,
    string Behavior, DateTimeOffset QuotedAt, DateTimeOffset EffectiveAt, string Currency, IReadOnlyList<InvoiceLineView> Lines, decimal Net)
{
    public static PlanChangeQuoteView From(PlanChangeQuote q) => new(q.SubscriptionId, q.FromPrice.PriceId, q.FromQuantity, q.ToPrice.PriceId,
        q.ToQuantity, q.IsUpgrade, q.Behavior.ToSnakeCase(), q.QuotedAt, q.EffectiveAt, q.Net.Currency, [.. q.Lines.Select(InvoiceLineView.From)],
        Amounts.Of(q.Net));
}

/// <param name="Invoice">The plan-change invoice: issued (a change) or calculated (a preview); null when nothing is invoiced now.</param>
public sealed record PlanChangeView(PlanChangeQuoteView Quote, InvoiceView? Invoice, SubscriptionView Subscription);

/// <param name="Invoice">The invoice issued for a period that starts now; null for a trial.</param>
public sealed record SubscriptionChangeView(SubscriptionView Subscription, InvoiceView? Invoice);

/// <param name="NextCursor">Pass as startingAfter for the next page; null on the last page.</param>
public sealed record InvoicePage(IReadOnlyList<InvoiceView> Data, bool HasMore, Guid? NextCursor);

internal static class Amounts
{
    public static decimal Of(Money money) => Math.Round(money.Amount, Currencies.MinorUnits(money.Currency), MidpointRounding.AwayFromZero);
}
