using BillingConsole.Domain.Tax;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Engine;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Domain.Ledger.LedgerAccount;
using static BillingConsole.Tests.Domain.Build;
using static BillingConsole.Tests.Engine.EngineData;

namespace BillingConsole.Tests.Engine;

/// <summary>Discounts as the pure invoice generator and the ledger postings treat them (docs/catalog.md).</summary>
[PureTests]
public sealed class DiscountTests
{
    private static readonly InvoiceGenerator Generator = new(Calendar);

    private static AppliedDiscount Percent(decimal percent, DateTimeOffset from, DateTimeOffset? until = null, string name = "Percent") =>
        new(Guid.NewGuid(), name, percent, null, from, until);

    private static AppliedDiscount AmountOff(decimal amount, DateTimeOffset from, string name = "Amount") =>
        new(Guid.NewGuid(), name, null, Usd(amount), from, null);

    private static GeneratedInvoice Renewal(BillableSubscription subscription, decimal taxRate = 0m) =>
        Generator.Generate(subscription, [], Usd(0), InvoiceTax.Flat(taxRate), subscription.CurrentPeriodEnd)!;

    private static (InvoiceLineKind, decimal) Shape(InvoiceLineDraft line) => (line.Kind, line.Amount.Amount);

    [Fact]
    public void A_percentage_comes_off_the_period_charge_as_a_rounded_line_and_tax_is_on_what_is_left()
    {
        var subscription = Subscription(Basic, 3, Utc(2027, 1, 1)) with { Discounts = [Percent(33.3333m, Utc(2027, 1, 1), name: "A third")] };

        var invoice = Renewal(subscription, taxRate: 0.2m);

        Assert.Equal([(InvoiceLineKind.Recurring, 90m), (InvoiceLineKind.Discount, -30m)], invoice.Lines.Select(Shape));
        Assert.Equal("Discount: A third", invoice.Lines[1].Description);
        Assert.Equal((Usd(60), Usd(12), Usd(72)), (invoice.Subtotal, invoice.Tax, invoice.Total));
    }

    [Fact]
    public void An_amount_off_is_never_more_than_the_charge()
    {
        var invoice = Renewal(Subscription(Basic, 1, Utc(2027, 1, 1)) with { Discounts = [AmountOff(50m, Utc(2027, 1, 1))] });

        Assert.Equal([(InvoiceLineKind.Recurring, 30m), (InvoiceLineKind.Discount, -30m)], invoice.Lines.Select(Shape));
        Assert.Equal(Usd(0), invoice.Total);
    }

    [Fact]
    public void A_discount_covers_the_periods_starting_inside_its_window_only()
    {
        var once = Percent(50m, Utc(2027, 2, 1), Calendar.MonthsLater(Utc(2027, 2, 1), 1));
        var january = Subscription(Basic, 1, Utc(2027, 1, 1)) with { Discounts = [once] };
        var february = Subscription(Basic, 1, Utc(2027, 2, 1)) with { Discounts = [once] };
        var december = Subscription(Basic, 1, Utc(2026, 12, 1)) with { Discounts = [once] };

        Assert.Equal(Usd(15), Renewal(january).Subtotal);
        Assert.Equal(Usd(30), Renewal(february).Subtotal);
        Assert.Equal(Usd(30), Renewal(december).Subtotal);
    }

    [Fact]
    public void The_first_discount_that_covers_the_period_wins_so_a_subscriptions_own_comes_before_its_customers()
    {
        var own = Percent(50m, Utc(2027, 3, 1), name: "Own");
        var customers = AmountOff(5m, Utc(2027, 1, 1), name: "Customer's");

        Assert.Equal(-5m, Renewal(Subscription(Basic, 1, Utc(2027, 1, 1)) with { Discounts = [own, customers] }).Lines[1].Amount.Amount);
        Assert.Equal(-15m, Renewal(Subscription(Basic, 1, Utc(2027, 2, 1)) with { Discounts = [own, customers] }).Lines[1].Amount.Amount);
    }

    [Fact]
    public void Plan_change_invoices_are_not_discounted()
    {
        var subscription = Subscription(Basic, 1, Utc(2027, 1, 1)) with { Discounts = [Percent(50m, Utc(2026, 1, 1))] };
        var quote = new Proration(Calendar).Quote(subscription, Pro, 1, Utc(2027, 1, 16), ProrationBehavior.Immediate);

        var invoice = InvoiceGenerator.ForPlanChange(subscription, quote, Usd(0), InvoiceTax.None)!;

        Assert.DoesNotContain(invoice.Lines, line => line.Kind == InvoiceLineKind.Discount);
    }

    [Fact]
    public void The_ledger_credits_revenue_with_the_charge_and_debits_discounts_and_a_void_reverses_both()
    {
        var generated = Renewal(Subscription(Basic, 2, Utc(2027, 1, 1)) with { Discounts = [Percent(25m, Utc(2027, 1, 1))] }, taxRate: 0.1m);
        var invoice = generated.ToInvoice(T0);
        invoice.Finalize("INV-9", T0, TimeSpan.FromDays(14));

        var issued = Assert.Single(LedgerPostings.InvoiceIssued(invoice));
        Assert.Equal([(Receivable, 49.5m, 0m), (Revenue, 0m, 60m), (Discounts, 15m, 0m), (TaxPayable, 0m, 4.5m)],
            issued.Entries.Select(e => (e.Account, e.Debit, e.Credit)));
        var voided = Assert.Single(LedgerPostings.InvoiceVoided(invoice, invoice.Void(T0), T0));
        Assert.Equal([(Receivable, 0m, 49.5m), (Revenue, 60m, 0m), (Discounts, 0m, 15m), (TaxPayable, 4.5m, 0m)],
            voided.Entries.Select(e => (e.Account, e.Debit, e.Credit)));
    }
}
