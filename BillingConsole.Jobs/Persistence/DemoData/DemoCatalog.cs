using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;

namespace BillingConsole.Persistence.DemoData;

internal sealed record DemoPlan(Guid Id, string Code, string Name, string Description, int Tier);

internal sealed record DemoPrice(int Index, Guid Id, DemoPlan Plan, string Currency, decimal Amount, BillingInterval Interval, int TrialDays, bool Active)
{
    public string IntervalName { get; } = Interval.ToSnakeCase();

    /// <summary>Monthly recurring revenue of one unit, as <see cref="Price.MonthlyAmount"/> counts it.</summary>
    public decimal MonthlyAmount => Interval == BillingInterval.Year ? Amount * (1m / 12m) : Amount;
}

/// <summary>The plans and prices of the demo business. Ids are fixed, so every demo database has the same catalog.</summary>
internal sealed class DemoCatalog
{
    public const int MonthsLegacyPriceWasSold = 3;

    public DemoCatalog()
    {
        var starter = Plan("starter", "Starter", "For freelancers and small teams getting started: 3 projects, email support.", 1);
        var team = Plan("team", "Team", "For growing teams: unlimited projects, roles and permissions, priority email support.", 2);
        var business = Plan("business", "Business", "For companies: SSO, audit log, advanced reporting, phone support.", 3);
        var enterprise = Plan("enterprise", "Enterprise", "For large organisations: dedicated manager, custom contract terms, 99.95% SLA.", 4);
        Plans = [starter, team, business, enterprise];

        var prices = new List<DemoPrice>();
        void Add(DemoPlan plan, string currency, decimal amount, BillingInterval interval, int trialDays, bool active = true) =>
            prices.Add(new DemoPrice(prices.Count,
                DeterministicGuid.For($"demo-price:{plan.Code}:{currency}:{interval.ToSnakeCase()}:{amount:0.00}"),
                plan, currency, amount, interval, trialDays, active));

        Add(starter, "USD", 19m, BillingInterval.Month, 14);
        Add(starter, "USD", 190m, BillingInterval.Year, 0);
        Add(starter, "EUR", 17m, BillingInterval.Month, 14);
        Add(team, "USD", 49m, BillingInterval.Month, 14);
        Add(team, "USD", 490m, BillingInterval.Year, 0);
        Add(team, "EUR", 45m, BillingInterval.Month, 14);
        Add(business, "USD", 199m, BillingInterval.Month, 14);
        Add(business, "USD", 1990m, BillingInterval.Year, 0);
        Add(enterprise, "USD", 999m, BillingInterval.Month, 0);
        Add(enterprise, "USD", 9990m, BillingInterval.Year, 0);
        // The launch price of Starter, retired after the first months; early customers kept it.
        Add(starter, "USD", 15m, BillingInterval.Month, 14, active: false);
        Prices = prices;
        LegacyStarter = prices[^1];
    }

    public IReadOnlyList<DemoPlan> Plans { get; }
    public IReadOnlyList<DemoPrice> Prices { get; }
    public DemoPrice LegacyStarter { get; }

    /// <summary>The price sold for a plan tier, currency and interval, if the catalog has one.</summary>
    public DemoPrice? Find(int tier, string currency, BillingInterval interval) =>
        Prices.FirstOrDefault(p => p.Active && p.Plan.Tier == tier && p.Currency == currency && p.Interval == interval);

    private static DemoPlan Plan(string code, string name, string description, int tier) =>
        new(DeterministicGuid.For($"demo-plan:{code}"), code, name, description, tier);
}
