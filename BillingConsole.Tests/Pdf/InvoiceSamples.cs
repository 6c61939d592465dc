using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Engine;
using BillingConsole.ReadModels;

namespace BillingConsole.Tests.Pdf;

/// <summary>Invoices as the read model returns them, with totals worked out the way docs/invoicing.md says.</summary>
internal static class InvoiceSamples
{
    public static readonly DateTimeOffset Issued = new(2027, 3, 1, 0, 5, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset PeriodStart = new(2027, 3, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset PeriodEnd = new(2027, 4, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset ChangedAt = new(2027, 2, 16, 0, 0, 0, TimeSpan.Zero);

    public static readonly BillingCalendar Calendar = BillingCalendar.ForZone("UTC");

    public static readonly BillingOptions Billing = new()
    {
        SellerName = "Northwind Analytics Ltd",
        SellerAddress = ["1 Ledger Lane", "London EC1A 1BB", "United Kingdom"],
        SellerTaxId = "GB 123 4567 89",
        TaxRate = 0.2m,
        PaymentTermsDays = 14,
    };

    public static readonly CustomerAddress Address = new("500 Market Street", "Suite 1200", "San Francisco", "94105", "US");

    /// <summary>A mid-period upgrade billed with the next period: proration credit and charge, tax, a credit applied, paid by card.</summary>
    public static InvoiceDetail Upgrade()
    {
        var invoice = Build("USD",
        [
            Line("recurring", "Growth plan (1 Mar 2027 – 1 Apr 2027)", 5, 49m, 245m),
            Line("proration_credit", "Unused time on Starter after 16 Feb 2027", 5, 19m, -44.11m, ChangedAt, PeriodStart),
            Line("proration_charge", "Remaining time on Growth after 16 Feb 2027", 5, 49m, 113.75m, ChangedAt, PeriodStart),
            Line("one_off", "Onboarding workshop (half day, remote, up to 12 attendees)", 1, 350m, 350m),
        ], taxRate: 0.2m, credit: 25m, status: "paid");
        return invoice with
        {
            Attempts =
            [
                Attempt(invoice, 1, "failed", Issued.AddMinutes(1), null),
                Attempt(invoice, 2, "succeeded", Issued.AddDays(2), "ch_3PqR8sT2xYzA7bC"),
            ],
        };
    }

    /// <summary>Many small usage lines, some with descriptions long enough to wrap.</summary>
    public static InvoiceDetail ManyLines(int count) => Build("USD",
        Enumerable.Range(1, count).Select(i => Line("one_off",
            i % 7 == 0
                ? $"Usage item {i:D2}: API calls over the included allowance for the reporting workspace, billed in blocks of ten thousand"
                : $"Usage item {i:D2}: seat add-on",
            i % 3 + 1, 10m + i, (10m + i) * (i % 3 + 1))).ToList(), taxRate: 0.2m, credit: 0m, status: "open");

    public static InvoiceDetail Build(string currency, IReadOnlyList<InvoiceLineRow> lines, decimal taxRate, decimal credit, string status)
    {
        var zero = Money.Zero(currency);
        var subtotal = new Money(lines.Sum(l => l.Amount), currency);
        var tax = (Money.Max(subtotal, zero) * taxRate).Rounded();
        var total = subtotal + tax;
        var creditApplied = Money.Min(new Money(credit, currency), Money.Max(total, zero));
        var payable = Money.Max(total - creditApplied, zero).Amount;
        // One rate on every line, the largest line carrying the tax, as an invoice of a single rate stores it.
        var largest = lines.Count == 0 ? null : lines.MaxBy(l => Math.Abs(l.Amount));
        var taxed = lines.Select(l => l with { TaxRate = taxRate, TaxAmount = ReferenceEquals(l, largest) ? tax.Amount : 0m }).ToList();
        return new InvoiceDetail(Guid.NewGuid(), "INV-001234", status, "subscription_cycle", currency, Guid.NewGuid(), "Acme Robotics Inc",
            "ap@acme-robotics.example", Guid.NewGuid(), PeriodStart, PeriodEnd, Issued, Issued, Issued.AddDays(14),
            status == "paid" ? Issued.AddDays(2) : null, status == "void" ? Issued.AddDays(3) : null, subtotal.Amount, tax.Amount, total.Amount,
            creditApplied.Amount, status == "paid" ? payable : 0m, status == "uncollectible" ? payable : 0m, status == "open" ? payable : 0m, 1,
            "charge_automatically", HasPaymentMethod: true)
        {
            CustomerAddress = Address,
            Lines = taxed,
        };
    }

    /// <summary>The credit for unused time on the old plan after a change on 16 Feb, which the following invoice carries.</summary>
    public static InvoiceLineRow ProrationCredit(decimal unit, decimal amount) =>
        Line("proration_credit", "Unused time on Starter after 16 Feb 2027", 1, unit, amount, ChangedAt, PeriodStart);

    public static InvoiceLineRow Line(string kind, string description, int quantity, decimal unit, decimal amount,
        DateTimeOffset? start = null, DateTimeOffset? end = null) =>
        new(Guid.NewGuid(), kind, description, quantity, unit, amount, start ?? PeriodStart, end ?? PeriodEnd);

    private static PaymentAttemptRow Attempt(InvoiceDetail invoice, int number, string status, DateTimeOffset at, string? reference) =>
        new(Guid.NewGuid(), invoice.Id, number, status, number == 1 ? "billing_run" : "dunning_retry", invoice.Total - invoice.CreditApplied,
            invoice.Currency, status == "failed" ? "insufficient_funds" : null, null, reference, at, at.AddSeconds(1), 800);
}
