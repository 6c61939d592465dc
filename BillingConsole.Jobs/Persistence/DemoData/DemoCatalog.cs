using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Engine.Commands;

namespace BillingConsole.Persistence.DemoData;

internal sealed record DemoPlan(string Code, string Name, string Description, int Tier, IReadOnlyList<AddPrice> Prices);

/// <summary>
/// The plans and prices of the demo business, created through the catalog commands when the history starts. Starter was
/// launched at 15 USD a month; after <see cref="MonthsLegacyPriceWasSold"/> months an admin adds the 19 USD price and archives
/// the launch price, which its early customers keep.
/// </summary>
internal static class DemoCatalog
{
    public const int MonthsLegacyPriceWasSold = 3;

    /// <summary>Where the demo business is established, for its tax table.</summary>
    public const string SellerCountry = "IE";

    /// <summary>The group rate its finance team reports the euro prices at, in US dollars a euro.</summary>
    public const decimal EuroInDollars = 1.08m;

    public static readonly AddPrice StarterLaunchPrice = Price("USD", 15m, BillingInterval.Month, 14);

    public static readonly AddPrice StarterPrice = Price("USD", 19m, BillingInterval.Month, 14);

    public static readonly IReadOnlyList<DemoPlan> Plans =
    [
        new("starter", "Starter", "For freelancers and small teams getting started: 3 projects, email support.", 1,
            [StarterLaunchPrice, Price("USD", 190m, BillingInterval.Year, 0), Price("EUR", 17m, BillingInterval.Month, 14)]),
        new("team", "Team", "For growing teams: unlimited projects, roles and permissions, priority email support.", 2,
            [Price("USD", 49m, BillingInterval.Month, 14), Price("USD", 490m, BillingInterval.Year, 0), Price("EUR", 45m, BillingInterval.Month, 14)]),
        new("business", "Business", "For companies: SSO, audit log, advanced reporting, phone support.", 3,
            [Price("USD", 199m, BillingInterval.Month, 14), Price("USD", 1990m, BillingInterval.Year, 0)]),
        new("enterprise", "Enterprise", "For large organisations: dedicated manager, custom contract terms, 99.95% SLA.", 4,
            [Price("USD", 999m, BillingInterval.Month, 0), Price("USD", 9990m, BillingInterval.Year, 0)]),
    ];

    /// <summary>Most seats a plan sells: a move to a smaller plan keeps at most this many.</summary>
    public static int MaxQuantity(int tier) => tier switch { 2 => 5, 3 => 3, _ => 1 };

    private static AddPrice Price(string currency, decimal amount, BillingInterval interval, int trialDays) =>
        new(currency, amount, interval.ToSnakeCase(), trialDays);
}
