using BillingConsole.Domain.Tax;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Engine;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Tests.Domain.Build;
using static BillingConsole.Tests.Engine.EngineData;

namespace BillingConsole.Tests.Engine;

/// <summary>Renewals of stored periods that do not end on the anchor day (docs/proration.md, "Stub periods").</summary>
[PureTests]
public sealed class StubPeriodTests
{
    private static readonly InvoiceGenerator Generator = new(Calendar);
    private static readonly BillablePrice Premium = Monthly("Premium", 1998m);

    /// <summary>A monthly subscription anchored on the 22nd whose stored period runs 5 Nov – 5 Dec 2026.</summary>
    private static readonly BillableSubscription EndsOnThe5thAnchoredOnThe22nd =
        Subscription(Premium, 1, Utc(2026, 11, 5)) with { BillingAnchorDay = 22 };

    [Fact]
    public void A_period_ending_before_the_anchor_day_renews_to_it_as_a_prorated_stub()
    {
        var invoice = Generator.Generate(EndsOnThe5thAnchoredOnThe22nd, [], Usd(0), InvoiceTax.None, Utc(2026, 12, 5))!;

        // The whole period ending on 22 Dec is 22 Nov – 22 Dec (30 days); 17 of them are billed: 1,998 × 17/30 = 1,132.20.
        Assert.Equal((Utc(2026, 12, 5), Utc(2026, 12, 22)), (invoice.PeriodStart, invoice.PeriodEnd));
        var line = Assert.Single(invoice.Lines);
        Assert.Equal((InvoiceLineKind.ProrationCharge, "Premium (5 Dec 2026 – 22 Dec 2026), prorated, 17 of 30 days", 1, Usd(1998), Usd(1132.20m)),
            (line.Kind, line.Description, line.Quantity, line.UnitAmount, line.Amount));
        Assert.Equal((Utc(2026, 12, 5), Utc(2026, 12, 22)), (line.PeriodStart, line.PeriodEnd));
        Assert.Equal((InvoiceKind.SubscriptionCycle, Usd(1132.20m)), (invoice.Kind, invoice.Total));
    }

    [Fact]
    public void The_period_after_a_stub_is_whole_at_the_full_price()
    {
        var stub = Generator.Generate(EndsOnThe5thAnchoredOnThe22nd, [], Usd(0), InvoiceTax.None, Utc(2026, 12, 5))!;
        var advanced = EndsOnThe5thAnchoredOnThe22nd with { CurrentPeriodStart = stub.PeriodStart, CurrentPeriodEnd = stub.PeriodEnd };

        var invoice = Generator.Generate(advanced, [], Usd(0), InvoiceTax.None, Utc(2026, 12, 22))!;

        Assert.Equal((Utc(2026, 12, 22), Utc(2027, 1, 22), Usd(1998)), (invoice.PeriodStart, invoice.PeriodEnd, invoice.Total));
        Assert.Equal(InvoiceLineKind.Recurring, Assert.Single(invoice.Lines).Kind);
    }

    [Fact]
    public void A_period_ending_after_the_anchor_day_renews_to_it_next_month()
    {
        // Ends 25 Jan 2027, anchor day 5: stub 25 Jan – 5 Feb, 11 of the 31 days from 5 Jan: 90 × 11/31 = 31.935… → 31.94.
        var subscription = Subscription(Pro, 1, Utc(2026, 12, 25)) with { BillingAnchorDay = 5 };

        var invoice = Generator.Generate(subscription, [], Usd(0), InvoiceTax.None, Utc(2027, 1, 25))!;

        Assert.Equal((Utc(2027, 1, 25), Utc(2027, 2, 5), Usd(31.94m)), (invoice.PeriodStart, invoice.PeriodEnd, invoice.Total));
    }

    [Fact]
    public void A_yearly_stub_is_prorated_against_the_year_that_ends_on_the_anchor_date()
    {
        // Ends 10 Mar 2027, anchor day 20: stub 10 – 20 Mar 2027, 10 of the 365 days from 20 Mar 2026: 900 × 10/365 = 24.657… → 24.66.
        var yearly = Priced("Pro yearly", 900m, BillingInterval.Year);
        var subscription = Subscription(yearly, 1, Utc(2026, 3, 10)) with { BillingAnchorDay = 20 };

        var invoice = Generator.Generate(subscription, [], Usd(0), InvoiceTax.None, Utc(2027, 3, 10))!;

        Assert.Equal((Utc(2027, 3, 10), Utc(2027, 3, 20), Usd(24.66m)), (invoice.PeriodStart, invoice.PeriodEnd, invoice.Total));
    }

    [Fact]
    public void A_31st_anchor_on_the_last_of_February_is_a_whole_period()
    {
        var subscription = Subscription(Pro, 1, Utc(2027, 1, 31)) with { BillingAnchorDay = 31 };
        Assert.Equal(Utc(2027, 2, 28), subscription.CurrentPeriodEnd);

        var invoice = Generator.Generate(subscription, [], Usd(0), InvoiceTax.None, Utc(2027, 2, 28))!;

        Assert.Equal((Utc(2027, 2, 28), Utc(2027, 3, 31), Usd(90)), (invoice.PeriodStart, invoice.PeriodEnd, invoice.Total));
    }

    [Fact]
    public void The_preview_shows_the_stub_the_run_bills()
    {
        var preview = Generator.PreviewNextInvoice(EndsOnThe5thAnchoredOnThe22nd, [], Usd(0), InvoiceTax.Flat(0.2m));
        var real = Generator.Generate(EndsOnThe5thAnchoredOnThe22nd, [], Usd(0), InvoiceTax.Flat(0.2m), Utc(2026, 12, 5, hour: 0));

        Assert.NotNull(preview);
        Assert.Equivalent(real, preview, strict: true);
        Assert.Equal((Utc(2026, 12, 22), Usd(1132.20m)), (preview.PeriodEnd, preview.Subtotal));
    }
}
