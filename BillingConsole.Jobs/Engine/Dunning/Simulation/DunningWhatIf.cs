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
/// through the current and the proposed policy with <see cref="DunningSimulator.ReplayRecorded"/>. It uses the model the
/// retry job uses, <see cref="RecoveryHistory"/>'s (learned from the installation's own dunning retries, on the customers'
/// clocks): the scheduler decides with it, exploration included, as <see cref="DunningService"/> does, and a retry fares as
/// its estimates say (<see cref="RecoveryStatistics.Mean"/>).
/// </summary>
public sealed class DunningWhatIf(NpgsqlDataSource dataSource, DunningSimulator simulator, RecoveryHistory history, TimeProvider clock)
{
    public const int WindowDays = 90;

    /// <param name="progress">Share of the replays done, 0 to 1.</param>
    public async Task<WhatIfReport> CompareAsync(DunningPolicySettings current, DunningPolicySettings proposed, IProgress<double>? progress,
        CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var since = clock.GetUtcNow().AddDays(-WindowDays);
        var failures = await FailuresSinceAsync(since, ct);
        var learned = await history.CurrentAsync(ct);
        var done = 0;
        var total = Math.Max(1, failures.Count * 2);
        void CaseDone()
        {
            var count = Interlocked.Increment(ref done);
            if (count % 25 == 0 || count == total) progress?.Report((double)count / total);
        }
        // CPU-bound: off the caller's thread (a Blazor circuit), so the page keeps rendering progress.
        var (currentRun, proposedRun) = await Task.Run(() => (
            simulator.ReplayRecorded(failures, current, learned, learned.Mean, CaseDone, ct),
            simulator.ReplayRecorded(failures, proposed, learned, learned.Mean, CaseDone, ct)), ct);
        return new WhatIfReport(since, failures.Count,
            failures.GroupBy(f => f.Amount.Currency).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Sum(f => f.Amount.Amount)),
            learned.ObservedAttempts, WhatIfFigures.From(currentRun), WhatIfFigures.From(proposedRun), Stopwatch.GetElapsedTime(started));
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
}
