using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Persistence;

/// <summary>Churn and retention rates of a month's MRR bridge, as docs/analytics.md defines them.</summary>
[PureTests]
public sealed class MrrRatesTests
{
    private static MrrBridge Bridge(decimal opening, int subscriptions, params (string Kind, int Count, decimal Amount)[] moves)
    {
        var steps = MrrBridgeQueries.Kinds.Select(k => moves.Where(m => m.Kind == k.Kind).Select(m => new MrrStep(k.Kind, k.Label, m.Count, m.Amount))
            .SingleOrDefault(new MrrStep(k.Kind, k.Label, 0, 0m))).ToList();
        return new MrrBridge(new DateOnly(2027, 4, 1), "USD", opening, steps, opening + moves.Sum(m => m.Amount), subscriptions);
    }

    [Fact]
    public void Churn_and_retention_come_from_the_opening_and_the_movements()
    {
        var bridge = Bridge(10_000m, 200, ("new", 10, 900m), ("expansion", 5, 400m), ("reactivation", 1, 50m), ("contraction", 3, -100m),
            ("churn_voluntary", 4, -250m), ("churn_involuntary", 2, -150m));

        Assert.Equal(6m / 200m, bridge.LogoChurnRate);
        Assert.Equal(500m / 10_000m, bridge.GrossMrrChurnRate);
        Assert.Equal(50m / 10_000m, bridge.NetMrrChurnRate);
        Assert.Equal(0.95m, bridge.GrossRevenueRetention);
        Assert.Equal(9_900m / 10_000m, bridge.NetRevenueRetention);
        Assert.Equal("3.0%", BillingConsole.Components.Pages.Analytics.AnalyticsPage.Rate(bridge.LogoChurnRate));
    }

    [Fact]
    public void A_month_that_opened_with_nothing_has_no_rates()
    {
        var bridge = Bridge(0m, 0, ("new", 3, 90m));

        Assert.Null(bridge.LogoChurnRate);
        Assert.Null(bridge.GrossMrrChurnRate);
        Assert.Null(bridge.NetRevenueRetention);
        Assert.Null(bridge.GrossRevenueRetention);
        Assert.Equal("—", BillingConsole.Components.Pages.Analytics.AnalyticsPage.Rate(bridge.NetRevenueRetention));
    }
}
