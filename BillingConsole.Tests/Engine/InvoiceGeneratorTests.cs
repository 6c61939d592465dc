using BillingConsole.Domain.Tax;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Tests.Domain.Build;
using static BillingConsole.Tests.Engine.EngineData;

namespace BillingConsole.Tests.Engine;

[PureTests]
public sealed class InvoiceGeneratorTests
{
    private static readonly InvoiceGenerator Generator = new(Calendar);
    private static readonly BillableSubscription ProInJanuary = Subscription(Pro, 1, Utc(2027, 1, 1));

    private static GeneratedInvoice? Generate(BillableSubscription subscription, DateTimeOffset target, Money? credit = null,
        decimal taxRate = 0m, IReadOnlyList<InvoiceLineDraft>? pending = null) =>
        Generator.Generate(subscription, pending ?? [], credit ?? Usd(0), InvoiceTax.Flat(taxRate), target);

    [Fact]
    public void A_renewal_bills_the_coming_period_in_advance()
    {
        var invoice = Generate(ProInJanuary with { Quantity = 3 }, Utc(2027, 2, 1))!;

        Assert.Equal((InvoiceKind.SubscriptionCycle, SubscriptionId, CustomerId), (invoice.Kind, invoice.SubscriptionId, invoice.CustomerId));
        Assert.Equal((Utc(2027, 2, 1), Utc(2027, 3, 1)), (invoice.PeriodStart, invoice.PeriodEnd));
        var line = Assert.Single(invoice.Lines);
        Assert.Equal((InvoiceLineKind.Recurring, "Pro (1 Feb 2027 – 1 Mar 2027)", 3, Usd(90), Usd(270), Pro.PriceId),
            (line.Kind, line.Description, line.Quantity, line.UnitAmount, line.Amount, line.PriceId));
        Assert.Equal((Usd(270), Usd(0), Usd(270), Usd(0), Usd(270)),
            (invoice.Subtotal, invoice.Tax, invoice.Total, invoice.CreditApplied, invoice.AmountDue));
    }

    [Fact]
    public void Nothing_is_due_before_the_period_ends()
    {
        Assert.Null(Generate(ProInJanuary, Utc(2027, 1, 31, hour: 23)));
        Assert.Equal(RenewalDecision.NotDue, InvoiceGenerator.Decide(ProInJanuary, Utc(2027, 1, 31, hour: 23)));
    }

    [Fact]
    public void A_yearly_renewal_keeps_February_29_as_its_anchor()
    {
        var subscription = Subscription(Priced("Pro yearly", 900m, BillingInterval.Year), 1, Utc(2027, 2, 28)) with
        {
            CurrentPeriodStart = Utc(2028, 2, 29),
            CurrentPeriodEnd = Utc(2029, 2, 28),
            BillingAnchorDay = 29,
        };
        var invoice = Generate(subscription, Utc(2029, 2, 28))!;
        Assert.Equal((Utc(2029, 2, 28), Utc(2030, 2, 28), Usd(900)), (invoice.PeriodStart, invoice.PeriodEnd, invoice.Total));
    }

    [Fact]
    public void A_trial_ending_produces_the_first_paid_invoice()
    {
        // A 14-day trial from 1 Jan: its period is the trial, and billing is anchored on the 15th from then on.
        var entity = new Subscription(CustomerId, Pro.PriceId, 1, Utc(2027, 1, 1), Utc(2027, 1, 15), Utc(2027, 1, 15));
        var subscription = BillableSubscription.From(entity, Pro, null, Calendar.AnchorDayOf(Utc(2027, 1, 15)));

        Assert.Null(Generate(subscription, Utc(2027, 1, 14)));
        var invoice = Generate(subscription, Utc(2027, 1, 15))!;

        Assert.Equal((Utc(2027, 1, 15), Utc(2027, 2, 15), Usd(90)), (invoice.PeriodStart, invoice.PeriodEnd, invoice.AmountDue));
        entity.AdvancePeriod(invoice.PeriodStart, invoice.PeriodEnd);
        Assert.Equal(SubscriptionStatus.Active, entity.Status);
    }

    [Fact]
    public void Tax_is_rounded_on_the_subtotal_half_away_from_zero()
    {
        // 8.25 % of 90.00 = 7.425 → 7.43
        var invoice = Generate(ProInJanuary, Utc(2027, 2, 1), taxRate: 0.0825m)!;
        Assert.Equal((Usd(90), Usd(7.43m), Usd(97.43m), Usd(97.43m)), (invoice.Subtotal, invoice.Tax, invoice.Total, invoice.AmountDue));

        // 10 % of ¥1,234 = 123.4 → ¥123
        var yen = new BillablePrice(Guid.NewGuid(), "Pro", new Money(1234m, "JPY"), BillingInterval.Month);
        var inYen = Generate(Subscription(yen, 1, Utc(2027, 1, 1)), Utc(2027, 2, 1), new Money(0m, "JPY"), 0.10m)!;
        Assert.Equal((new Money(123m, "JPY"), new Money(1357m, "JPY")), (inYen.Tax, inYen.Total));
    }

    [Fact]
    public void A_credit_balance_larger_than_the_invoice_pays_it_all_and_the_rest_is_carried()
    {
        // 90 + 20 % tax = 108; credit 150 → applied 108, due 0, 42 left.
        var invoice = Generate(ProInJanuary, Utc(2027, 2, 1), Usd(150), 0.2m)!;

        Assert.Equal((Usd(108), Usd(108), Usd(0), Usd(42), Usd(0)),
            (invoice.Total, invoice.CreditApplied, invoice.AmountDue, invoice.CreditRemaining, invoice.CreditGranted));

        var written = invoice.ToInvoice(Utc(2027, 2, 1));
        written.Finalize("INV-7", Utc(2027, 2, 1), TimeSpan.FromDays(14));
        Assert.Equal((InvoiceStatus.Paid, Usd(108), Usd(18)), (written.Status, written.CreditApplied, written.Tax));
    }

    [Fact]
    public void A_smaller_credit_balance_is_used_up_and_the_rest_is_due()
    {
        var invoice = Generate(ProInJanuary, Utc(2027, 2, 1), Usd(25))!;
        Assert.Equal((Usd(25), Usd(65), Usd(0)), (invoice.CreditApplied, invoice.AmountDue, invoice.CreditRemaining));
    }

    [Fact]
    public void Proration_lines_carried_from_a_plan_change_are_added_to_the_renewal()
    {
        // Basic → Pro on 16 Jan with NextInvoice: −15.48 + 46.45 wait for February's invoice, which bills Pro.
        var basic = Subscription(Basic, 1, Utc(2027, 1, 1));
        var quote = new Proration(Calendar).Quote(basic, Pro, 1, Utc(2027, 1, 16), ProrationBehavior.NextInvoice);

        var invoice = Generate(basic with { Price = Pro }, Utc(2027, 2, 1), taxRate: 0.2m, pending: quote.Lines)!;

        Assert.Equal([InvoiceLineKind.Recurring, InvoiceLineKind.ProrationCredit, InvoiceLineKind.ProrationCharge], invoice.Lines.Select(l => l.Kind));
        // 90 − 15.48 + 46.45 = 120.97; tax 24.194 → 24.19; total 145.16
        Assert.Equal((Usd(120.97m), Usd(24.19m), Usd(145.16m)), (invoice.Subtotal, invoice.Tax, invoice.Total));
    }

    [Fact]
    public void A_scheduled_downgrade_is_billed_at_its_new_price()
    {
        var subscription = ProInJanuary with { PendingChange = new PendingPriceChange(Basic, 2) };
        var line = Assert.Single(Generate(subscription, Utc(2027, 2, 1))!.Lines);
        Assert.Equal((Basic.PriceId, 2, Usd(60)), (line.PriceId, line.Quantity, line.Amount));
    }

    [Fact]
    public void Credits_beyond_the_charges_become_customer_credit_without_tax()
    {
        // Basic renewal 30 with carried lines −232.26 + 92.90: subtotal −109.36, no tax, 109.36 granted.
        var pending = new[] { Carried(InvoiceLineKind.ProrationCredit, -232.26m), Carried(InvoiceLineKind.ProrationCharge, 92.90m) };
        var invoice = Generate(Subscription(Basic, 1, Utc(2027, 1, 1)), Utc(2027, 2, 1), Usd(10), 0.2m, pending)!;

        Assert.Equal((Usd(-109.36m), Usd(0), Usd(-109.36m)), (invoice.Subtotal, invoice.Tax, invoice.Total));
        Assert.Equal((Usd(0), Usd(0), Usd(109.36m), Usd(119.36m)),
            (invoice.CreditApplied, invoice.AmountDue, invoice.CreditGranted, invoice.CreditRemaining));
    }

    [Fact]
    public void Cancel_at_period_end_produces_no_invoice_and_cancels()
    {
        var subscription = ProInJanuary with { CancelAtPeriodEnd = true };
        Assert.Null(Generate(subscription, Utc(2027, 2, 1)));
        Assert.Equal(RenewalDecision.Cancel, InvoiceGenerator.Decide(subscription, Utc(2027, 2, 1)));
    }

    [Fact]
    public void Cancel_at_period_end_still_invoices_lines_carried_from_a_plan_change()
    {
        var subscription = ProInJanuary with { CancelAtPeriodEnd = true };
        var invoice = Generate(subscription, Utc(2027, 2, 1), pending: [Carried(InvoiceLineKind.ProrationCharge, 46.45m)])!;
        Assert.Equal((InvoiceKind.PlanChange, Usd(46.45m), 1), (invoice.Kind, invoice.Total, invoice.Lines.Count));
    }

    public static TheoryData<SubscriptionStatus> NotBilled => [SubscriptionStatus.Paused, SubscriptionStatus.Canceled, SubscriptionStatus.Unpaid];

    [Theory]
    [MemberData(nameof(NotBilled))]
    public void Paused_canceled_and_unpaid_subscriptions_produce_nothing(SubscriptionStatus status)
    {
        var subscription = ProInJanuary with { Status = status };
        Assert.Null(Generate(subscription, Utc(2027, 3, 1), pending: [Carried(InvoiceLineKind.ProrationCharge, 5m)]));
        Assert.Equal(RenewalDecision.NotBillable, InvoiceGenerator.Decide(subscription, Utc(2027, 3, 1)));
    }

    [Fact]
    public void A_past_due_subscription_still_renews() =>
        Assert.NotNull(Generate(ProInJanuary with { Status = SubscriptionStatus.PastDue }, Utc(2027, 2, 1)));

    [Fact]
    public void The_preview_is_the_invoice_the_run_generates()
    {
        var subscription = ProInJanuary with { Quantity = 2, PendingChange = new PendingPriceChange(Basic, 4) };
        InvoiceLineDraft[] pending = [Carried(InvoiceLineKind.ProrationCredit, -12.34m)];

        var preview = Generator.PreviewNextInvoice(subscription, pending, Usd(20), InvoiceTax.Flat(0.2m));
        var real = Generator.Generate(subscription, pending, Usd(20), InvoiceTax.Flat(0.2m), Utc(2027, 2, 3, hour: 5));

        Assert.NotNull(preview);
        Assert.Equivalent(real, preview, strict: true);
        Assert.Equal(real!.Lines, preview.Lines);
    }

    [Fact]
    public void The_written_invoice_keeps_the_generated_totals()
    {
        var generated = Generate(ProInJanuary, Utc(2027, 2, 1), Usd(30), 0.2m, [Carried(InvoiceLineKind.ProrationCredit, -10m)])!;
        var invoice = generated.ToInvoice(Utc(2027, 2, 1), billingRunId: Guid.NewGuid());

        Assert.Equal((generated.Subtotal, generated.Tax, generated.Total, generated.CreditApplied),
            (invoice.Subtotal, invoice.Tax, invoice.Total, invoice.CreditApplied));
        Assert.Equal(generated.Lines.Select(l => (l.Kind, l.Amount)), invoice.Lines.Select(l => (l.Kind, l.Amount)));
        Assert.Equal((InvoiceStatus.Draft, InvoiceKind.SubscriptionCycle), (invoice.Status, invoice.Kind));
    }

    [Fact]
    public void Invalid_tax_rates_and_foreign_credit_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Generate(ProInJanuary, Utc(2027, 2, 1), taxRate: -0.1m));
        Assert.Throws<ArgumentOutOfRangeException>(() => Generate(ProInJanuary, Utc(2027, 2, 1), taxRate: 1.5m));
        Assert.Throws<InvalidOperationException>(() => Generate(ProInJanuary, Utc(2027, 2, 1), new Money(5m, "EUR")));
    }

    private static InvoiceLineDraft Carried(InvoiceLineKind kind, decimal amount) =>
        new(kind, kind.ToString(), 1, Usd(Math.Abs(amount)), Usd(amount), Utc(2027, 1, 16), Utc(2027, 2, 1), Pro.PriceId);
}
