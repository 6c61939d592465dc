using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>
/// Retention by sign-up month in one currency, read from the MRR movements the engine records (docs/analytics.md, "Cohorts"):
/// a customer's cohort is the month of their first MRR movement in that currency; for each month since, how many of the
/// cohort still have MRR at its end (logo retention) and their MRR against the cohort's MRR at the end of its first month
/// (revenue retention, expansion included).
/// </summary>
public sealed class CohortQueries(NpgsqlDataSource dataSource)
{
    /// <summary>How many sign-up months the table shows unless the URL asks for another of these.</summary>
    public static readonly IReadOnlyList<int> CohortCounts = [6, 12, 18, 24];
    public const int DefaultCohortCount = 12;

    /// <summary>The number of sign-up months as the URL gives it: the default when absent, null when it is not one of <see cref="CohortCounts"/>.</summary>
    public static int? ParseCount(string? text) =>
        string.IsNullOrEmpty(text) ? DefaultCohortCount : int.TryParse(text, out var count) && CohortCounts.Contains(count) ? count : null;

    /// <summary>The currencies that have MRR movements, which the table can be read in.</summary>
    public async Task<IReadOnlyList<string>> CurrenciesAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<string>(new CommandDefinition(
            "select distinct currency from mrr_movements order by 1", cancellationToken: ct))).ToList();
    }

    /// <summary>The <paramref name="cohorts"/> sign-up months up to <paramref name="lastMonth"/>, each followed to <paramref name="lastMonth"/>.</summary>
    public async Task<IReadOnlyList<Cohort>> TableAsync(string currency, DateOnly lastMonth, int cohorts, CancellationToken ct)
    {
        var last = new DateOnly(lastMonth.Year, lastMonth.Month, 1);
        var first = last.AddMonths(1 - cohorts);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // Each customer's MRR at the end of every month from their sign-up month on: the running sum of their movements.
        var cells = await connection.QueryAsync<(DateTime Cohort, DateTime Month, int Customers, int Retained, decimal Mrr)>(new CommandDefinition("""
            with monthly as (
                select customer_id, date_trunc('month', day)::date as month, sum(amount) as amount
                from mrr_movements where currency = @currency and day < @end::date
                group by customer_id, date_trunc('month', day)),
            signups as (
                select customer_id, min(month) as cohort from monthly group by customer_id having min(month) >= @first::date),
            running as (
                select s.cohort, months.month, s.customer_id,
                       sum(coalesce(m.amount, 0)) over (partition by s.customer_id order by months.month) as mrr
                from signups s
                cross join lateral generate_series(s.cohort, @last::date, interval '1 month') as months(month)
                left join monthly m on m.customer_id = s.customer_id and m.month = months.month::date)
            select cohort, month::date, count(*)::int, count(*) filter (where mrr > 0)::int, sum(mrr)
            from running group by cohort, month order by cohort, month
            """, new { currency, first = Midnight(first), last = Midnight(last), end = Midnight(last.AddMonths(1)) }, cancellationToken: ct));
        return cells.GroupBy(c => DateOnly.FromDateTime(c.Cohort)).Select(cohort =>
        {
            var start = cohort.First();
            return new Cohort(cohort.Key, currency, start.Customers, start.Mrr,
                cohort.Select((cell, index) => new CohortMonth(index, DateOnly.FromDateTime(cell.Month), cell.Retained, cell.Mrr)).ToList());
        }).ToList();
    }

    private static DateTime Midnight(DateOnly day) => day.ToDateTime(TimeOnly.MinValue);
}

/// <param name="Customers">Customers whose first MRR in the currency began in <paramref name="SignUpMonth"/>.</param>
/// <param name="StartingMrr">Their MRR at the end of that month, which revenue retention is a share of.</param>
public sealed record Cohort(DateOnly SignUpMonth, string Currency, int Customers, decimal StartingMrr, IReadOnlyList<CohortMonth> Months)
{
    public decimal? LogoRetention(CohortMonth month) => Customers == 0 ? null : (decimal)month.Retained / Customers;

    public decimal? RevenueRetention(CohortMonth month) => StartingMrr <= 0 ? null : month.Mrr / StartingMrr;
}

/// <param name="Index">Months since sign-up: 0 is the sign-up month itself.</param>
/// <param name="Retained">Customers of the cohort with MRR at the end of the month.</param>
public sealed record CohortMonth(int Index, DateOnly Month, int Retained, decimal Mrr);
