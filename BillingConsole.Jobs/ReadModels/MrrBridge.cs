using System.Globalization;
using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>
/// One month's MRR bridge per currency, read from the tables the MRR recording keeps (docs/analytics.md): the MRR at the
/// end of the month before, each kind of movement in the month, and the MRR at the month's last recorded day. Opening plus
/// the movements is the closing MRR.
/// </summary>
public sealed class MrrBridgeQueries(NpgsqlDataSource dataSource)
{
    /// <summary>The movement kinds in the order a bridge shows them, with their labels.</summary>
    public static readonly IReadOnlyList<(string Kind, string Label)> Kinds =
    [
        ("new", "New"),
        ("expansion", "Expansion"),
        ("reactivation", "Reactivation"),
        ("contraction", "Contraction"),
        ("churn_voluntary", "Churn, voluntary"),
        ("churn_involuntary", "Churn, involuntary"),
    ];

    /// <summary>Parses a month as the page's URL and the CSV export write it (yyyy-MM); null when it is not one.</summary>
    public static DateOnly? ParseMonth(string? text) =>
        DateOnly.TryParseExact(text, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month) ? month : null;

    public static string MonthText(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>The month as the dunning statistics' cohort period: UTC days, as MRR is recorded.</summary>
    public static StatisticsPeriod PeriodOf(DateOnly month)
    {
        var first = new DateOnly(month.Year, month.Month, 1);
        return new StatisticsPeriod(new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
            new DateTimeOffset(first.AddMonths(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
    }

    /// <summary>The months that have recorded MRR, newest first.</summary>
    public async Task<IReadOnlyList<DateOnly>> MonthsAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<DateTime>(new CommandDefinition(
                "select distinct date_trunc('month', day)::date from mrr_snapshots order by 1 desc", cancellationToken: ct)))
            .Select(DateOnly.FromDateTime).ToList();
    }

    public async Task<IReadOnlyList<MrrBridge>> MonthAsync(DateOnly month, CancellationToken ct)
    {
        var first = new DateOnly(month.Year, month.Month, 1);
        var args = new { from = first.ToDateTime(TimeOnly.MinValue), to = first.AddMonths(1).ToDateTime(TimeOnly.MinValue) };
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // Opening: the last recorded day before the month; closing: the last recorded day in it.
        var totals = await connection.QueryAsync<(string Currency, decimal Opening, decimal Closing, int OpeningSubscriptions)>(new CommandDefinition("""
            select currency,
                   coalesce(sum(mrr) filter (where day = (select max(day) from mrr_snapshots where day < @from::date)), 0),
                   coalesce(sum(mrr) filter (where day = (select max(day) from mrr_snapshots where day < @to::date)), 0),
                   coalesce(sum(subscriptions) filter (where day = (select max(day) from mrr_snapshots where day < @from::date)), 0)::int
            from mrr_snapshots
            where day in ((select max(day) from mrr_snapshots where day < @from::date), (select max(day) from mrr_snapshots where day < @to::date))
            group by currency
            """, args, cancellationToken: ct));
        var moved = (await connection.QueryAsync<(string Currency, string Kind, int Count, decimal Amount)>(new CommandDefinition("""
            select currency, kind, count(*)::int, sum(amount) from mrr_movements
            where day >= @from::date and day < @to::date group by currency, kind
            """, args, cancellationToken: ct))).ToList();
        var opening = totals.ToDictionary(t => t.Currency);
        return opening.Keys.Union(moved.Select(m => m.Currency)).Order(StringComparer.Ordinal)
            .Select(currency => new MrrBridge(first, currency, opening.GetValueOrDefault(currency).Opening,
                Kinds.Select(kind => moved.Where(m => m.Currency == currency && m.Kind == kind.Kind)
                        .Select(m => new MrrStep(kind.Kind, kind.Label, m.Count, m.Amount))
                        .SingleOrDefault(new MrrStep(kind.Kind, kind.Label, 0, 0m)))
                    .ToList(),
                opening.GetValueOrDefault(currency).Closing, opening.GetValueOrDefault(currency).OpeningSubscriptions))
            .ToList();
    }
}

public sealed record MrrStep(string Kind, string Label, int Subscriptions, decimal Amount);

/// <param name="OpeningSubscriptions">The subscriptions that counted in the opening MRR.</param>
public sealed record MrrBridge(DateOnly Month, string Currency, decimal Opening, IReadOnlyList<MrrStep> Steps, decimal Closing, int OpeningSubscriptions)
{
    public decimal Arr => Closing * 12m;

    private decimal Moved(params string[] kinds) => Steps.Where(s => kinds.Contains(s.Kind)).Sum(s => s.Amount);

    private decimal? OfOpening(decimal amount) => Opening == 0 ? null : amount / Opening;

    /// <summary>Subscriptions churned in the month (either way) among those counting at its start.</summary>
    public decimal? LogoChurnRate => OpeningSubscriptions == 0 ? null
        : (decimal)Steps.Where(s => s.Kind is "churn_voluntary" or "churn_involuntary").Sum(s => s.Subscriptions) / OpeningSubscriptions;

    /// <summary>MRR lost to churn and contraction, as a share of the opening MRR.</summary>
    public decimal? GrossMrrChurnRate => OfOpening(-Moved("churn_voluntary", "churn_involuntary", "contraction"));

    /// <summary>Gross MRR churn less expansion and reactivation: negative when existing customers grew more than they left.</summary>
    public decimal? NetMrrChurnRate => OfOpening(-Moved("churn_voluntary", "churn_involuntary", "contraction", "expansion", "reactivation"));

    /// <summary>What the opening MRR kept, without its growth: 1 − gross MRR churn.</summary>
    public decimal? GrossRevenueRetention => 1m - GrossMrrChurnRate;

    /// <summary>What the opening MRR became with expansion, contraction and churn (reactivations are not the opening customers' MRR).</summary>
    public decimal? NetRevenueRetention => OfOpening(Opening + Moved("expansion", "contraction", "churn_voluntary", "churn_involuntary"));
}
