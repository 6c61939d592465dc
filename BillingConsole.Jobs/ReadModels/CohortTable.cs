using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>
/// Retention by sign-up month in one currency, read from the cells each MRR recording computes from its movements (docs/analytics.md, "Cohorts"):
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

    /// <summary>The currencies that have cohorts, which the table can be read in.</summary>
    public async Task<IReadOnlyList<string>> CurrenciesAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<string>(new CommandDefinition(
            "select distinct currency from mrr_cohort_cells order by 1", cancellationToken: ct))).ToList();
    }

    /// <summary>The <paramref name="cohorts"/> sign-up months up to <paramref name="lastMonth"/>, each followed to <paramref name="lastMonth"/>.</summary>
    public async Task<IReadOnlyList<Cohort>> TableAsync(string currency, DateOnly lastMonth, int cohorts, CancellationToken ct)
    {
        var last = new DateOnly(lastMonth.Year, lastMonth.Month, 1);
        var first = last.AddMonths(1 - cohorts);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // The cells the MRR recording keeps: a few per cohort and month, whatever the number of customers.
        var cells = await connection.QueryAsync<(DateTime Cohort, DateTime Month, int Customers, int Retained, decimal Mrr)>(new CommandDefinition("""
            select cohort, month, customers, retained, mrr from mrr_cohort_cells
            where currency = @currency and cohort between @first::date and @last::date and month <= @last::date
            order by cohort, month
            """, new { currency, first = Midnight(first), last = Midnight(last) }, cancellationToken: ct));
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
