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
    private static readonly string[] OpenStatuses = ["retry_pending", "retrying", "awaiting_payment_method"];

    /// <summary>
    /// The cohort's report from one read: its cases grouped by everything a table breaks them down by (a few hundred
    /// groups, whatever the number of cases), and the median days to recovery, which no grouping keeps.
    /// </summary>
    public async Task<RecoveryReport> ReportAsync(StatisticsPeriod period, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var groups = (await connection.QueryAsync<CaseGroup>(new CommandDefinition($"""
            with cohort as materialized ({Cohort})
            select status, trim(currency) as currency, opening_decline_code as decline_code, retries, succeeded_retry,
                   floor(days_to_close)::int as day, count(*) as cases, sum(amount) as amount, sum(days_to_close) as days,
                   (select percentile_cont(0.5) within group (order by days_to_close) from cohort where status = 'recovered') as median
            from cohort group by 1, 2, 3, 4, 5, 6
            """, period, cancellationToken: ct))).ToList();
        return new RecoveryReport(period, Summary(groups), ByRetryNumber(groups), ByDeclineCode(groups), ByDaysToRecovery(groups), Revenue(groups));
    }

    /// <summary>Cases of the cohort alike in every column a breakdown reads.</summary>
    private sealed record CaseGroup(string Status, string Currency, string DeclineCode, int Retries, int? SucceededRetry, int? Day, long Cases,
        decimal Amount, double? Days, double? Median)
    {
        public bool Recovered => Status == "recovered";
        public bool Exhausted => Status == "exhausted";
    }

    private static DunningOutcomeSummary Summary(IReadOnlyList<CaseGroup> groups)
    {
        long Count(Func<CaseGroup, bool> which) => groups.Where(which).Sum(g => g.Cases);
        var recovered = Count(g => g.Recovered);
        var exhausted = Count(g => g.Exhausted);
        double? mean = recovered == 0 ? null : groups.Where(g => g.Recovered).Sum(g => g.Days!.Value) / recovered;
        return new DunningOutcomeSummary(Count(_ => true), recovered, exhausted, Count(g => g.Status == "closed"),
            Count(g => OpenStatuses.Contains(g.Status)), Rate(recovered, recovered + exhausted), mean, groups.FirstOrDefault()?.Median);
    }

    /// <summary>The k-th retry was made in every case with k retries or more, and succeeded in the case it recovered.</summary>
    private static IReadOnlyList<RetryOutcomeByNumber> ByRetryNumber(IReadOnlyList<CaseGroup> groups) =>
        [.. Enumerable.Range(1, groups.Select(g => g.Retries).DefaultIfEmpty(0).Max()).Select(number =>
        {
            var attempts = groups.Where(g => g.Retries >= number).Sum(g => g.Cases);
            var succeeded = groups.Where(g => g.SucceededRetry == number).Sum(g => g.Cases);
            return new RetryOutcomeByNumber(number, attempts, succeeded, Rate(succeeded, attempts)!.Value);
        })];

    private static IReadOnlyList<RecoveryByDeclineCode> ByDeclineCode(IReadOnlyList<CaseGroup> groups) =>
        [.. groups.GroupBy(g => g.DeclineCode).Select(code =>
        {
            var recovered = code.Where(g => g.Recovered).Sum(g => g.Cases);
            var exhausted = code.Where(g => g.Exhausted).Sum(g => g.Cases);
            return new RecoveryByDeclineCode(code.Key, code.Sum(g => g.Cases), recovered, exhausted, Rate(recovered, recovered + exhausted));
        }).OrderByDescending(r => r.Cases).ThenBy(r => r.DeclineCode, StringComparer.Ordinal)];

    /// <summary>The day buckets <see cref="ByDaysToRecovery"/> counts in: each of the first week, then weeks, then the rest.</summary>
    public static readonly IReadOnlyList<(int From, int? To)> RecoveryDayBuckets = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 13), (14, 20), (21, null)];

    private static IReadOnlyList<RecoveryByDays> ByDaysToRecovery(IReadOnlyList<CaseGroup> groups)
    {
        var recovered = groups.Where(g => g.Recovered).ToList();
        var total = recovered.Sum(g => g.Cases);
        return [.. RecoveryDayBuckets.Select(bucket =>
        {
            var inBucket = recovered.Where(g => g.Day >= bucket.From && (bucket.To is not { } to || g.Day <= to)).Sum(g => g.Cases);
            return new RecoveryByDays(bucket.From, bucket.To, inBucket, Rate(inBucket, total) ?? 0);
        })];
    }

    private static IReadOnlyList<DunningRevenue> Revenue(IReadOnlyList<CaseGroup> groups) =>
        [.. groups.GroupBy(g => g.Currency).OrderBy(c => c.Key, StringComparer.Ordinal).Select(currency => new DunningRevenue(currency.Key,
            currency.Where(g => g.Recovered).Sum(g => g.Amount), currency.Where(g => g.Exhausted).Sum(g => g.Amount)))];

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
            from dunning_cases where status in ('retry_pending', 'retrying', 'awaiting_payment_method') and {TestCustomers.Excluded("customer_id")}
            """, new { Now = clock.GetUtcNow() }, cancellationToken: ct));
    }

    private static double? Rate(long part, long whole) => whole == 0 ? null : (double)part / whole;
}
