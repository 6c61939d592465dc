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

/// <summary>Worked examples of docs/proration.md: Basic is $30 a month, Pro $90 a month, billing time zone UTC.</summary>
[PureTests]
public sealed class ProrationTests
{
    private static readonly Proration Proration = new(Calendar);

    private static (Money Credit, Money Charge, Money Net) Amounts(PlanChangeQuote quote) =>
        (quote.Lines[0].Amount, quote.Lines[1].Amount, quote.Net);

    [Fact]
    public void Upgrade_in_the_middle_of_a_31_day_month()
    {
        // January 2027 has 31 days; from 16 Jan 00:00 to 1 Feb 00:00, 16 are left.
        //   credit −30 × 16/31 = −15.4838… → −15.48
        //   charge  90 × 16/31 =  46.4516… →  46.45
        //   net                              30.97
        var quote = Proration.Quote(Subscription(Basic, 1, Utc(2027, 1, 1)), Pro, 1, Utc(2027, 1, 16));

        Assert.Equal((Usd(-15.48m), Usd(46.45m), Usd(30.97m)), Amounts(quote));
        Assert.True(quote.IsUpgrade);
        Assert.Equal((ProrationBehavior.Immediate, Utc(2027, 1, 16)), (quote.Behavior, quote.EffectiveAt));

        var (credit, charge) = (quote.Lines[0], quote.Lines[1]);
        Assert.Equal((InvoiceLineKind.ProrationCredit, "Unused time on Basic after 16 Jan 2027", 1, Usd(30), Basic.PriceId),
            (credit.Kind, credit.Description, credit.Quantity, credit.UnitAmount, credit.PriceId));
        Assert.Equal((InvoiceLineKind.ProrationCharge, "Remaining time on Pro after 16 Jan 2027", 1, Usd(90), Pro.PriceId),
            (charge.Kind, charge.Description, charge.Quantity, charge.UnitAmount, charge.PriceId));
        Assert.All(quote.Lines, line => Assert.Equal((Utc(2027, 1, 16), Utc(2027, 2, 1)), (line.PeriodStart, line.PeriodEnd)));
    }

    [Fact]
    public void The_same_upgrade_in_February_of_a_leap_year()
    {
        // February 2028 has 29 days; from 16 Feb to 1 Mar, 14 are left.
        //   credit −30 × 14/29 = −14.4827… → −14.48
        //   charge  90 × 14/29 =  43.4482… →  43.45
        //   net                              28.97
        var quote = Proration.Quote(Subscription(Basic, 1, Utc(2028, 2, 1)), Pro, 1, Utc(2028, 2, 16));
        Assert.Equal((Usd(-14.48m), Usd(43.45m), Usd(28.97m)), Amounts(quote));
    }

    [Fact]
    public void The_same_upgrade_in_February_of_a_common_year()
    {
        // February 2027 has 28 days; from 16 Feb to 1 Mar, 13 are left.
        //   credit −30 × 13/28 = −13.9285… → −13.93
        //   charge  90 × 13/28 =  41.7857… →  41.79
        //   net                              27.86
        var quote = Proration.Quote(Subscription(Basic, 1, Utc(2027, 2, 1)), Pro, 1, Utc(2027, 2, 16));
        Assert.Equal((Usd(-13.93m), Usd(41.79m), Usd(27.86m)), Amounts(quote));
    }

    [Fact]
    public void Time_is_measured_in_seconds_so_a_change_at_noon_counts_half_a_day()
    {
        // 15.5 of 31 days left: exactly half the month.
        //   credit −30 × 1,339,200 s / 2,678,400 s = −15.00
        //   charge  90 × 1,339,200 s / 2,678,400 s =  45.00
        var quote = Proration.Quote(Subscription(Basic, 1, Utc(2027, 1, 1)), Pro, 1, Utc(2027, 1, 16, hour: 12));
        Assert.Equal((Usd(-15m), Usd(45m), Usd(30m)), Amounts(quote));
    }

    [Fact]
    public void Each_line_is_rounded_on_its_own_half_away_from_zero()
    {
        // Half a day left of 31: credit −31.31 × 0.5/31 = −0.505 → −0.51 (away from zero, not to even);
        // charge 90 × 0.5/31 = 1.4516… → 1.45; net 0.94.
        var odd = Monthly("Odd", 31.31m);
        var quote = Proration.Quote(Subscription(odd, 1, Utc(2027, 1, 1)), Pro, 1, Utc(2027, 1, 31, hour: 12));
        Assert.Equal((Usd(-0.51m), Usd(1.45m), Usd(0.94m)), Amounts(quote));
    }

    [Fact]
    public void A_quantity_increase_credits_the_old_seats_and_charges_the_new_ones()
    {
        // Pro × 2 → Pro × 5 on 16 Jan 2027 (16 of 31 days left):
        //   credit −180 × 16/31 =  −92.9032… →  −92.90
        //   charge  450 × 16/31 =  232.2580… →  232.26
        //   net                                  139.36
        var quote = Proration.Quote(Subscription(Pro, 2, Utc(2027, 1, 1)), Pro, 5, Utc(2027, 1, 16));

        Assert.Equal((Usd(-92.90m), Usd(232.26m), Usd(139.36m)), Amounts(quote));
        Assert.Equal((2, 5), (quote.Lines[0].Quantity, quote.Lines[1].Quantity));
        Assert.True(quote.IsUpgrade);
    }

    [Fact]
    public void A_quantity_decrease_waits_for_the_period_end_unless_asked_to_prorate_now()
    {
        var subscription = Subscription(Pro, 5, Utc(2027, 1, 1));

        var byDefault = Proration.Quote(subscription, Pro, 2, Utc(2027, 1, 16));
        Assert.Equal((false, ProrationBehavior.AtPeriodEnd, 0), (byDefault.IsUpgrade, byDefault.Behavior, byDefault.Lines.Count));

        // The same numbers as the increase above, the other way round: the customer is owed 139.36.
        var now = Proration.Quote(subscription, Pro, 2, Utc(2027, 1, 16), ProrationBehavior.Immediate);
        Assert.Equal((Usd(-232.26m), Usd(92.90m), Usd(-139.36m)), Amounts(now));
    }

    [Fact]
    public void A_downgrade_is_scheduled_for_the_period_end_without_lines()
    {
        var subscription = new Subscription(CustomerId, Pro.PriceId, 1, Utc(2027, 1, 1), Utc(2027, 2, 1), null);

        var quote = Proration.Quote(BillableSubscription.From(subscription, Pro, null, 1), Basic, 1, Utc(2027, 1, 16));

        Assert.False(quote.IsUpgrade);
        Assert.Equal((ProrationBehavior.AtPeriodEnd, Utc(2027, 2, 1), Usd(0)), (quote.Behavior, quote.EffectiveAt, quote.Net));
        Assert.Empty(quote.Lines);

        quote.ApplyTo(subscription);
        Assert.Equal((Pro.PriceId, Basic.PriceId, (int?)1), (subscription.PriceId, subscription.PendingPriceId, subscription.PendingQuantity));
    }

    [Fact]
    public void An_upgrade_applied_now_changes_the_price_at_once()
    {
        var subscription = new Subscription(CustomerId, Basic.PriceId, 1, Utc(2027, 1, 1), Utc(2027, 2, 1), null);
        var snapshot = BillableSubscription.From(subscription, Basic, null, 1);

        Proration.Quote(snapshot, Pro, 3, Utc(2027, 1, 10)).ApplyTo(subscription);

        Assert.Equal((Pro.PriceId, 3, (Guid?)null), (subscription.PriceId, subscription.Quantity, subscription.PendingPriceId));
    }

    [Fact]
    public void Upgrade_or_downgrade_compares_monthly_amounts_so_a_year_counts_a_twelfth()
    {
        // $1,080 a year is $90 a month: not more than Pro monthly, so not an upgrade.
        Assert.False(Proration.Quote(Subscription(Pro, 1, Utc(2027, 1, 1)), Priced("Pro", 1080m, BillingInterval.Year), 1, Utc(2027, 1, 5)).IsUpgrade);
        Assert.True(Proration.Quote(Subscription(Pro, 1, Utc(2027, 1, 1)), Priced("Pro", 1080.01m, BillingInterval.Year), 1, Utc(2027, 1, 5)).IsUpgrade);
    }

    [Fact]
    public void A_change_of_interval_only_happens_at_period_end()
    {
        var subscription = Subscription(Basic, 1, Utc(2027, 1, 1));
        var yearly = Priced("Pro", 1200m, BillingInterval.Year);

        Assert.Equal(ProrationBehavior.AtPeriodEnd, Proration.Quote(subscription, yearly, 1, Utc(2027, 1, 5)).Behavior);
        Assert.Throws<DomainRuleException>(() => Proration.Quote(subscription, yearly, 1, Utc(2027, 1, 5), ProrationBehavior.Immediate));
    }

    [Fact]
    public void During_a_trial_the_plan_changes_now_and_nothing_is_prorated()
    {
        var quote = Proration.Quote(Subscription(Basic, 1, Utc(2027, 1, 1), SubscriptionStatus.Trialing), Pro, 1, Utc(2027, 1, 5));
        Assert.Equal((ProrationBehavior.Immediate, Utc(2027, 1, 5), 0), (quote.Behavior, quote.EffectiveAt, quote.Lines.Count));
    }

    [Fact]
    public void Next_invoice_prorates_now_and_leaves_the_lines_for_the_cycle_invoice()
    {
        var subscription = Subscription(Basic, 1, Utc(2027, 1, 1));
        var quote = Proration.Quote(subscription, Pro, 1, Utc(2027, 1, 16), ProrationBehavior.NextInvoice);

        Assert.Equal(Usd(30.97m), quote.Net);
        Assert.Null(InvoiceGenerator.ForPlanChange(subscription, quote, Usd(0), InvoiceTax.Flat(0.2m)));
    }

    [Fact]
    public void An_immediate_change_is_invoiced_on_a_plan_change_invoice_with_tax()
    {
        var subscription = Subscription(Basic, 1, Utc(2027, 1, 1));
        var quote = Proration.Quote(subscription, Pro, 1, Utc(2027, 1, 16));

        var invoice = InvoiceGenerator.ForPlanChange(subscription, quote, Usd(0), InvoiceTax.Flat(0.2m))!;

        // tax 20 % of 30.97 = 6.194 → 6.19
        Assert.Equal((InvoiceKind.PlanChange, Usd(30.97m), Usd(6.19m), Usd(37.16m)), (invoice.Kind, invoice.Subtotal, invoice.Tax, invoice.Total));
        Assert.Equal((Utc(2027, 1, 16), Utc(2027, 2, 1)), (invoice.PeriodStart, invoice.PeriodEnd));
    }

    public static TheoryData<SubscriptionStatus> NotChangeable => [SubscriptionStatus.Paused, SubscriptionStatus.Unpaid, SubscriptionStatus.Canceled];

    [Theory]
    [MemberData(nameof(NotChangeable))]
    public void Subscriptions_that_are_not_billed_cannot_change_plan(SubscriptionStatus status) =>
        Assert.Throws<DomainRuleException>(() => Proration.Quote(Subscription(Basic, 1, Utc(2027, 1, 1), status), Pro, 1, Utc(2027, 1, 5)));

    [Fact]
    public void Changes_outside_the_period_to_the_same_plan_or_while_blocked_are_refused()
    {
        var subscription = Subscription(Basic, 1, Utc(2027, 1, 1));
        Assert.Throws<DomainRuleException>(() => Proration.Quote(subscription, Pro, 1, Utc(2027, 2, 1)));
        Assert.Throws<DomainRuleException>(() => Proration.Quote(subscription, Pro, 1, Utc(2026, 12, 31)));
        Assert.Throws<DomainRuleException>(() => Proration.Quote(subscription, Basic, 1, Utc(2027, 1, 5)));
        Assert.Throws<DomainRuleException>(() => Proration.Quote(subscription, Pro, 0, Utc(2027, 1, 5)));
        Assert.Throws<DomainRuleException>(() => Proration.Quote(subscription with { PlanChangesBlocked = true }, Pro, 1, Utc(2027, 1, 5)));
        Assert.Throws<DomainRuleException>(() => Proration.Quote(subscription, new BillablePrice(Guid.NewGuid(), "Euro", new Money(90m, "EUR"), BillingInterval.Month), 1, Utc(2027, 1, 5)));
    }
}
