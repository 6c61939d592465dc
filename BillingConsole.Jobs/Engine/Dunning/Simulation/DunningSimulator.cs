using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;

namespace BillingConsole.Engine.Dunning.Simulation;

public sealed record SimulationOptions
{
    public static readonly IReadOnlyList<IReadOnlyList<int>> DefaultSchedules = [[1, 3, 5, 7], [1, 2, 4, 8, 16], [3, 7, 14, 21]];

    /// <summary>Fixed schedules to compare; the first also makes the history the statistical mode learns from.</summary>
    public IReadOnlyList<IReadOnlyList<int>> FixedSchedules { get; init; } = DefaultSchedules;

    /// <summary>The attempt budget every strategy gets; the longest fixed schedule's length when absent.</summary>
    public int? Budget { get; init; }
}

/// <param name="Strategy">"fixed 1,3,5,7", "statistical" or "oracle".</param>
/// <param name="MeanDaysToRecovery">From the first failure to the successful retry, over the recovered cases; null when none.</param>
public sealed record StrategyResult(string Strategy, int Recovered, double RecoveryRate, decimal RecoveredRevenue, int AttemptsUsed,
    double? MeanDaysToRecovery);

/// <param name="HistoryObservations">Retries made by the first fixed schedule in the history months, which the statistical mode learned from.</param>
/// <param name="EvaluatedCases">Failures after the history months, replayed by every strategy.</param>
public sealed record SimulationReport(int Seed, int Budget, int HistoryCases, int HistoryObservations, int EvaluatedCases, decimal AmountDue,
    IReadOnlyList<StrategyResult> Strategies);

/// <summary>A failed payment from the installation's history: the dunning case it opened.</summary>
public sealed record RecordedFailure(Guid CaseId, string DeclineCode, DateTimeOffset FirstFailureAt, Money Amount);

/// <param name="RecoveredAt">When the replayed policy's retry succeeded; null when it never did.</param>
public sealed record ReplayedFailure(RecordedFailure Failure, int Retries, DateTimeOffset? RecoveredAt)
{
    public double? DaysToRecovery => RecoveredAt is { } at ? (at - Failure.FirstFailureAt).TotalDays : null;
}

/// <summary>
/// Replays a synthetic population against the real <see cref="RetryScheduler"/> and <see cref="RecoveryStatistics"/>, with
/// the gateway replaced by the population's behaviour. The scheduler only sees the outcomes of its own retries.
/// </summary>
/// <remarks>
/// The first fixed schedule runs over the history months with the priors; its retries (those made before the history
/// ends, as a real install would have them) are what the statistical mode learns from. Every failure after that is then
/// replayed by each fixed schedule, by the statistical mode and by an oracle: the same statistical search, given the true
/// probabilities of the customer's segment. Each customer's k-th retry draws the same random number under every strategy,
/// so strategies differ by their choices, not their luck; the same seed gives the same report.
/// </remarks>
public sealed class DunningSimulator(RetryScheduler? scheduler = null)
{
    private readonly RetryScheduler _scheduler = scheduler ?? new RetryScheduler();

    public SimulationReport Run(DunningPopulation population, SimulationOptions options)
    {
        var problems = population.Validate();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems), nameof(population));
        if (options.FixedSchedules.Count == 0) throw new ArgumentException("Give at least one fixed schedule.", nameof(options));
        var budget = options.Budget ?? options.FixedSchedules.Max(s => s.Count);
        var fixedPolicies = options.FixedSchedules
            .Select(days => Valid(DunningPolicySettings.Default with { Mode = RetryMode.Fixed, FixedIntervalsDays = days, AttemptBudget = budget }))
            .ToList();
        var statistical = Valid(DunningPolicySettings.Default with { Mode = RetryMode.Statistical, AttemptBudget = budget });

        var cases = Cases(population);
        var historyEnd = population.Start.AddMonths(population.History);
        var history = cases.Where(c => c.FirstFailureAt < historyEnd).ToList();
        var observations = history
            .SelectMany(c => Observations(c, Replay(c, fixedPolicies[0], RecoveryStatistics.Priors)))
            .Where(o => o.AttemptedAt < historyEnd)
            .ToList();
        var learned = RecoveryStatistics.FromObservations(observations);

        var evaluated = cases.Where(c => c.FirstFailureAt >= historyEnd).ToList();
        var strategies = fixedPolicies
            .Select(policy => new Strategy($"fixed {string.Join(",", policy.FixedIntervalsDays)}", policy, _ => RecoveryStatistics.Priors))
            .Append(new Strategy("statistical", statistical, _ => learned))
            .Append(new Strategy("oracle", statistical, c => c.Truth));
        var results = strategies
            .Select(s => Evaluate(s.Name, evaluated, c => Replay(c, s.Policy, s.Model(c))))
            .ToList();
        return new SimulationReport(population.Seed, budget, history.Count, observations.Count, evaluated.Count,
            evaluated.Sum(c => c.Amount.Amount), results);
    }

    private static DunningPolicySettings Valid(DunningPolicySettings policy)
    {
        var errors = policy.Validate();
        return errors.Count == 0 ? policy : throw new ArgumentException(string.Join(" ", errors.Values));
    }

    /// <summary>
    /// Replays an installation's own failed payments under a policy. Nobody knows how a retry at another time would have
    /// fared, so each retry succeeds with the probability <paramref name="outcomes"/> gives (the model learned from the
    /// installation's history), drawn from a generator seeded by the case: every policy replayed gets the same luck for a
    /// case's k-th retry, so two policies differ by their choices alone. The scheduler decides with <paramref name="scheduling"/>,
    /// as the engine does.
    /// </summary>
    public IReadOnlyList<ReplayedFailure> ReplayRecorded(IReadOnlyList<RecordedFailure> failures, DunningPolicySettings policy,
        IRecoveryModel scheduling, IRecoveryModel outcomes, Action? caseDone = null, CancellationToken ct = default) =>
        failures.AsParallel().AsOrdered().WithCancellation(ct).Select(failure =>
        {
            var seed = SplitMix64.Mix(BitConverter.ToUInt64(failure.CaseId.ToByteArray(), 0), BitConverter.ToUInt64(failure.CaseId.ToByteArray(), 8));
            var replayed = Replay(new SimulatedCase(failure.DeclineCode, outcomes, failure.FirstFailureAt, failure.Amount, DateTimeOffset.MaxValue, seed),
                policy, scheduling);
            caseDone?.Invoke();
            return new ReplayedFailure(failure, replayed.Retries.Count, replayed.RecoveredAt);
        }).ToList();

    /// <summary>One dunning case from first failure to recovery or stop. The card fix is the population's secret: the scheduler just sees a success.</summary>
    private Replayed Replay(SimulatedCase c, DunningPolicySettings policy, IRecoveryModel model)
    {
        var luck = new SplitMix64(c.OutcomeSeed);
        var retries = new List<DateTimeOffset>();
        var now = c.FirstFailureAt;
        while (true)
        {
            var context = new RetryContext(c.DeclineCode, c.DeclineCode, c.FirstFailureAt, retries, c.Amount, TimeZoneInfo.Utc, now);
            if (_scheduler.Next(context, policy, model) is not RetryDecision.Retry retry) return new Replayed(retries, null);
            var draw = luck.NextDouble();
            retries.Add(retry.At);
            var truth = c.Truth.Probability(context.QueryAt(retry.At, retries.Count));
            if (retry.At >= c.CardFixedAt || draw < truth) return new Replayed(retries, retry.At);
            now = retry.At;
        }
    }

    private static IEnumerable<AttemptObservation> Observations(SimulatedCase c, Replayed replayed) =>
        replayed.Retries.Select((at, i) => new AttemptObservation(c.DeclineCode, i + 1, c.FirstFailureAt, at,
            replayed.RecoveredAt == at && i == replayed.Retries.Count - 1));

    private static StrategyResult Evaluate(string name, IReadOnlyList<SimulatedCase> cases, Func<SimulatedCase, Replayed> replay)
    {
        var outcomes = cases.AsParallel().AsOrdered().Select(c => (Case: c, Outcome: replay(c))).ToList();
        var recovered = outcomes.Where(o => o.Outcome.RecoveredAt is not null).ToList();
        return new StrategyResult(name, recovered.Count, cases.Count == 0 ? 0 : (double)recovered.Count / cases.Count,
            recovered.Sum(o => o.Case.Amount.Amount), outcomes.Sum(o => o.Outcome.Retries.Count),
            recovered.Count == 0 ? null : recovered.Average(o => (o.Outcome.RecoveredAt!.Value - o.Case.FirstFailureAt).TotalDays));
    }

    private static List<SimulatedCase> Cases(DunningPopulation population)
    {
        var start = population.Start;
        var span = population.Start.AddMonths(population.Months) - start;
        var totalWeight = population.Segments.Sum(s => s.Weight);
        return Enumerable.Range(0, population.Customers).Select(customer =>
        {
            var random = new SplitMix64(SplitMix64.Mix((ulong)population.Seed, (ulong)customer));
            var segment = Pick(population.Segments, random.NextDouble() * totalWeight);
            var failedAt = start.AddMinutes(Math.Floor(random.NextDouble() * span.TotalMinutes));
            var amount = Math.Round(population.Amount.Min + (decimal)random.NextDouble() * (population.Amount.Max - population.Amount.Min), 2);
            // The day the card is fixed: geometric with the segment's daily chance, spread over the day.
            var fixDraw = random.NextDouble();
            var cardFixedAt = segment.FixCardPerDay > 0 && fixDraw > 0
                ? failedAt.AddDays(Math.Min(Math.Log(fixDraw) / Math.Log(1 - segment.FixCardPerDay), 3650))
                : DateTimeOffset.MaxValue;
            return new SimulatedCase(segment.DeclineCode, segment, failedAt, new Money(amount, "USD"), cardFixedAt, random.NextUInt64());
        }).ToList();
    }

    private static PopulationSegment Pick(IReadOnlyList<PopulationSegment> segments, double point)
    {
        foreach (var segment in segments)
        {
            if (point < segment.Weight) return segment;
            point -= segment.Weight;
        }
        return segments[^1];
    }

    private sealed record Strategy(string Name, DunningPolicySettings Policy, Func<SimulatedCase, IRecoveryModel> Model);

    /// <param name="Truth">How the customer's retries really fare: the population's segment, or the model learned from a real history.</param>
    private sealed record SimulatedCase(string DeclineCode, IRecoveryModel Truth, DateTimeOffset FirstFailureAt, Money Amount, DateTimeOffset CardFixedAt, ulong OutcomeSeed);

    private sealed record Replayed(IReadOnlyList<DateTimeOffset> Retries, DateTimeOffset? RecoveredAt);
}

/// <summary>A small, fast generator whose sequence is fixed by its seed on every platform and .NET version.</summary>
internal sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public static ulong Mix(ulong a, ulong b) => new SplitMix64(a * 0x9E3779B97F4A7C15UL ^ b).NextUInt64();

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
