using BillingConsole.Persistence;
using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>The cohort of dunning cases opened in [From, To).</summary>
public sealed record StatisticsPeriod(DateTimeOffset From, DateTimeOffset To);

/// <param name="RecoveryRate">Recovered among the cases that ended recovered or exhausted; null while none has.</param>
/// <param name="MeanDaysToRecovery">From the case opening to the payment, over recovered cases.</param>
public sealed record DunningOutcomeSummary(long Cases, long Recovered, long Exhausted, long Closed, long Open, double? RecoveryRate,
    double? MeanDaysToRecovery, double? MedianDaysToRecovery);

/// <summary>Dunning retries by their number within the case (1: the first retry after the failure that opened it).</summary>
public sealed record RetryOutcomeByNumber(int RetryNumber, long Attempts, long Succeeded, double SuccessRate);

/// <summary>Cases by the decline that opened them.</summary>
public sealed record RecoveryByDeclineCode(string DeclineCode, long Cases, long Recovered, long Exhausted, double? RecoveryRate);

/// <summary>Recovered cases by the days from the failure that opened them to the payment: <c>FromDay</c> to <c>ToDay</c>, both included (null: and later).</summary>
public sealed record RecoveryByDays(int FromDay, int? ToDay, long Recovered, double Share)
{
    public string Label => ToDay == FromDay ? $"day {FromDay}" : ToDay is { } to ? $"days {FromDay}–{to}" : $"day {FromDay} and later";
}

/// <summary>Money of the cohort's cases, per currency: recovered by dunning, and given up on (exhausted, whatever the final action).</summary>
public sealed record DunningRevenue(string Currency, decimal Recovered, decimal WrittenOff);

/// <summary>What dunning did with the cases opened in a period: outcomes, retries by number, declines, days to recovery, money.</summary>
public sealed record RecoveryReport(StatisticsPeriod Period, DunningOutcomeSummary Summary, IReadOnlyList<RetryOutcomeByNumber> ByRetryNumber,
    IReadOnlyList<RecoveryByDeclineCode> ByDeclineCode, IReadOnlyList<RecoveryByDays> ByDaysToRecovery, IReadOnlyList<DunningRevenue> Revenue);

/// <summary>The open cases now: how many in each state, how many due, and how long the oldest have waited.</summary>
public sealed record DunningQueueDepth(long Open, long RetryPending, long Retrying, long AwaitingPaymentMethod, long DueNow,
    DateTimeOffset? OldestOpenedAt, DateTimeOffset? OldestDueAt);

/// <summary>
/// The figures the dashboards show about dunning, computed in SQL. Cohort figures count the cases opened in a period (so a
/// rate does not mix cases of different ages), read from each case's facts; the queue is as of now, from dunning_cases.
/// </summary>
public sealed class DunningStatistics(NpgsqlDataSource dataSource, TimeProvider clock)
{
    /// <summary>The facts of the cases opened in the period (<see cref="DunningCaseFactsRecorder"/>).</summary>
    private static readonly string Cohort = DunningCaseFactsRecorder.CohortSql;
    private const string OpenStatuses = "('retry_pending', 'retrying', 'awaiting_payment_method')";

    public async Task<RecoveryReport> ReportAsync(StatisticsPeriod period, CancellationToken ct) =>
        new(period, await SummaryAsync(period, ct), await ByRetryNumberAsync(period, ct), await ByDeclineCodeAsync(period, ct),
            await ByDaysToRecoveryAsync(period, ct), await RevenueAsync(period, ct));

    public async Task<DunningOutcomeSummary> SummaryAsync(StatisticsPeriod period, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleAsync<(long Cases, long Recovered, long Exhausted, long Closed, long Open, double? Mean, double? Median)>(
            new CommandDefinition($"""
                with cohort as ({Cohort})
                select count(*) as cases,
                       count(*) filter (where status = 'recovered') as recovered,
                       count(*) filter (where status = 'exhausted') as exhausted,
                       count(*) filter (where status = 'closed') as closed,
                       count(*) filter (where status in {OpenStatuses}) as open,
                       avg(days_to_close) filter (where status = 'recovered') as mean,
                       percentile_cont(0.5) within group (order by days_to_close) filter (where status = 'recovered') as median
                from cohort
                """, period, cancellationToken: ct));
        return new DunningOutcomeSummary(row.Cases, row.Recovered, row.Exhausted, row.Closed, row.Open, Rate(row.Recovered, row.Recovered + row.Exhausted),
            row.Mean, row.Median);
    }

    public async Task<IReadOnlyList<RetryOutcomeByNumber>> ByRetryNumberAsync(StatisticsPeriod period, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // The k-th retry was made in every case with k retries or more, and succeeded in the case it recovered.
        var rows = await connection.QueryAsync<(long RetryNumber, long Attempts, long Succeeded)>(new CommandDefinition($"""
            with cohort as ({Cohort})
            select number as retry_number, count(*) as attempts, count(*) filter (where succeeded_retry = number) as succeeded
            from cohort cross join generate_series(1, retries) as number
            group by number order by number
            """, period, cancellationToken: ct));
        return [.. rows.Select(r => new RetryOutcomeByNumber((int)r.RetryNumber, r.Attempts, r.Succeeded, Rate(r.Succeeded, r.Attempts)!.Value))];
    }

    public async Task<IReadOnlyList<RecoveryByDeclineCode>> ByDeclineCodeAsync(StatisticsPeriod period, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(string DeclineCode, long Cases, long Recovered, long Exhausted)>(new CommandDefinition($"""
            with cohort as ({Cohort})
            select opening_decline_code as decline_code, count(*) as cases,
                   count(*) filter (where status = 'recovered') as recovered,
                   count(*) filter (where status = 'exhausted') as exhausted
            from cohort group by 1 order by cases desc, decline_code
            """, period, cancellationToken: ct));
        return [.. rows.Select(r => new RecoveryByDeclineCode(r.DeclineCode, r.Cases, r.Recovered, r.Exhausted, Rate(r.Recovered, r.Recovered + r.Exhausted)))];
    }

    /// <summary>The day buckets <see cref="ByDaysToRecoveryAsync"/> counts in: each of the first week, then weeks, then the rest.</summary>
    public static readonly IReadOnlyList<(int From, int? To)> RecoveryDayBuckets = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 13), (14, 20), (21, null)];

    public async Task<IReadOnlyList<RecoveryByDays>> ByDaysToRecoveryAsync(StatisticsPeriod period, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var days = (await connection.QueryAsync<(int Day, long Recovered)>(new CommandDefinition($"""
            with cohort as ({Cohort})
            select floor(days_to_close)::int as day, count(*) as recovered
            from cohort where status = 'recovered' group by 1
            """, period, cancellationToken: ct))).ToList();
        var total = days.Sum(d => d.Recovered);
        return [.. RecoveryDayBuckets.Select(bucket =>
        {
            var recovered = days.Where(d => d.Day >= bucket.From && (bucket.To is not { } to || d.Day <= to)).Sum(d => d.Recovered);
            return new RecoveryByDays(bucket.From, bucket.To, recovered, Rate(recovered, total) ?? 0);
        })];
    }

    public async Task<IReadOnlyList<DunningRevenue>> RevenueAsync(StatisticsPeriod period, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<DunningRevenue>(new CommandDefinition($"""
            with cohort as ({Cohort})
            select trim(currency) as currency,
                   coalesce(sum(amount) filter (where status = 'recovered'), 0) as recovered,
                   coalesce(sum(amount) filter (where status = 'exhausted'), 0) as written_off
            from cohort group by 1 order by 1
            """, period, cancellationToken: ct));
        return [.. rows];
    }

    public async Task<DunningQueueDepth> QueueAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleAsync<DunningQueueDepth>(new CommandDefinition($"""
            select count(*) as open,
                   count(*) filter (where status = 'retry_pending') as retry_pending,
                   count(*) filter (where status = 'retrying') as retrying,
                   count(*) filter (where status = 'awaiting_payment_method') as awaiting_payment_method,
                   count(*) filter (where status = 'retry_pending' and next_attempt_at <= @Now) as due_now,
                   min(opened_at) as oldest_opened_at,
                   min(next_attempt_at) filter (where status = 'retry_pending' and next_attempt_at <= @Now) as oldest_due_at
            from dunning_cases where status in {OpenStatuses}
            """, new { Now = clock.GetUtcNow() }, cancellationToken: ct));
    }

    private static double? Rate(long part, long whole) => whole == 0 ? null : (double)part / whole;
}
