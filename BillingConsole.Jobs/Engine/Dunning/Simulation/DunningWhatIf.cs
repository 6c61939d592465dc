using System.Diagnostics;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using Npgsql;

namespace BillingConsole.Engine.Dunning.Simulation;

/// <summary>What one policy would have done with the failures replayed.</summary>
/// <param name="RecoveredRevenue">Per currency: amounts in different currencies are never added together.</param>
/// <param name="MeanDaysToRecovery">From the failure to the successful retry, over the recovered cases; null when none.</param>
/// <param name="RecoveredByDay">Share of the failures recovered by the end of day 0, 1, … 30 after the failure (the recovery curve).</param>
public sealed record WhatIfFigures(int Recovered, double RecoveryRate, IReadOnlyDictionary<string, decimal> RecoveredRevenue, int AttemptsUsed,
    double? MeanDaysToRecovery, IReadOnlyList<double> RecoveredByDay)
{
    public static WhatIfFigures From(IReadOnlyList<ReplayedFailure> replayed)
    {
        var recovered = replayed.Where(r => r.RecoveredAt is not null).ToList();
        double Share(int count) => replayed.Count == 0 ? 0 : (double)count / replayed.Count;
        return new WhatIfFigures(recovered.Count, Share(recovered.Count),
            recovered.GroupBy(r => r.Failure.Amount.Currency).OrderBy(g => g.Key)
                .ToDictionary(g => g.Key, g => g.Sum(r => r.Failure.Amount.Amount)),
            replayed.Sum(r => r.Retries),
            recovered.Count == 0 ? null : recovered.Average(r => r.DaysToRecovery!.Value),
            [.. Enumerable.Range(0, DunningPolicySettings.NetworkCapWindowDays + 1).Select(day => Share(recovered.Count(r => r.DaysToRecovery < day + 1)))]);
    }
}

/// <param name="Failures">Failed payments (dunning cases opened) in the window, each replayed under both policies.</param>
/// <param name="LearnedFromAttempts">Dunning retries in the history that the outcome model learned from.</param>
public sealed record WhatIfReport(DateTimeOffset Since, int Failures, IReadOnlyDictionary<string, decimal> AmountDue, long LearnedFromAttempts,
    WhatIfFigures Current, WhatIfFigures Proposed, TimeSpan Elapsed);

/// <summary>
/// "What if we had used this policy?": replays the last <see cref="WindowDays"/> days of this installation's failed payments
/// through the current and the proposed policy with <see cref="DunningSimulator.ReplayRecorded"/>. How a retry fares comes
/// from <see cref="RecoveryStatistics"/> learned from the installation's own dunning retries; the scheduler decides with the
/// priors, as <see cref="DunningService"/> does.
/// </summary>
public sealed class DunningWhatIf(NpgsqlDataSource dataSource, DunningSimulator simulator, TimeProvider clock)
{
    public const int WindowDays = 90;

    /// <param name="progress">Share of the replays done, 0 to 1.</param>
    public async Task<WhatIfReport> CompareAsync(DunningPolicySettings current, DunningPolicySettings proposed, IProgress<double>? progress,
        CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var since = clock.GetUtcNow().AddDays(-WindowDays);
        var failures = await FailuresSinceAsync(since, ct);
        var outcomes = RecoveryStatistics.FromAggregates(await RetryHistoryAsync(ct));
        var done = 0;
        var total = Math.Max(1, failures.Count * 2);
        void CaseDone()
        {
            var count = Interlocked.Increment(ref done);
            if (count % 25 == 0 || count == total) progress?.Report((double)count / total);
        }
        // CPU-bound: off the caller's thread (a Blazor circuit), so the page keeps rendering progress.
        var (currentRun, proposedRun) = await Task.Run(() => (
            simulator.ReplayRecorded(failures, current, RecoveryStatistics.Priors, outcomes, CaseDone, ct),
            simulator.ReplayRecorded(failures, proposed, RecoveryStatistics.Priors, outcomes, CaseDone, ct)), ct);
        return new WhatIfReport(since, failures.Count,
            failures.GroupBy(f => f.Amount.Currency).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Sum(f => f.Amount.Amount)),
            outcomes.ObservedAttempts, WhatIfFigures.From(currentRun), WhatIfFigures.From(proposedRun), Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Each dunning case opened since <paramref name="since"/>, with the decline of the failure that opened it.</summary>
    private async Task<List<RecordedFailure>> FailuresSinceAsync(DateTimeOffset since, CancellationToken ct)
    {
        const string sql = """
            select d.id, coalesce(opening.decline_code, d.last_decline_code, 'generic_decline'), d.opened_at, d.amount, d.currency
            from dunning_cases d
            left join lateral (
                select a.decline_code from payment_attempts a
                where a.invoice_id = d.invoice_id and a.started_at <= d.opened_at and a.decline_code is not null
                order by a.attempt_number desc limit 1) opening on true
            where d.opened_at >= $1
            order by d.opened_at, d.id
            """;
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = since });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var failures = new List<RecordedFailure>();
        while (await reader.ReadAsync(ct))
            failures.Add(new RecordedFailure(reader.GetGuid(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                new Money(reader.GetDecimal(3), reader.GetString(4).Trim())));
        return failures;
    }

    /// <summary>
    /// Every dunning retry with a known outcome, under the decline of the attempt before it, counted by the levels
    /// <see cref="RecoveryStatistics"/> learns (UTC clock, as the scheduler uses).
    /// </summary>
    private async Task<List<AttemptAggregate>> RetryHistoryAsync(CancellationToken ct)
    {
        const string sql = """
            with attempts as (
                select a.invoice_id, a.trigger, a.status, a.started_at,
                       lag(a.decline_code) over (partition by a.invoice_id order by a.attempt_number) as previous_decline
                from payment_attempts a),
            retries as (
                select coalesce(x.previous_decline, 'generic_decline') as decline_code,
                       row_number() over (partition by d.id order by x.started_at) as attempt_number,
                       floor(extract(epoch from x.started_at - d.opened_at) / 86400)::int as days,
                       x.started_at at time zone 'UTC' as local_time,
                       x.status = 'succeeded' as succeeded
                from dunning_cases d
                join attempts x on x.invoice_id = d.invoice_id and x.trigger = 'dunning_retry' and x.started_at >= d.opened_at
                where x.status in ('succeeded', 'failed'))
            select decline_code, attempt_number::int, days, extract(dow from local_time)::int, extract(hour from local_time)::int,
                   extract(day from local_time)::int, local_time::date = (date_trunc('month', local_time) + interval '1 month - 1 day')::date,
                   count(*), count(*) filter (where succeeded)
            from retries
            group by 1, 2, 3, 4, 5, 6, 7
            """;
        await using var command = dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<AttemptAggregate>();
        while (await reader.ReadAsync(ct))
            rows.Add(new AttemptAggregate(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), (DayOfWeek)reader.GetInt32(3),
                reader.GetInt32(4), reader.GetInt32(5), reader.GetBoolean(6), reader.GetInt64(7), reader.GetInt64(8)));
        return rows;
    }
}
