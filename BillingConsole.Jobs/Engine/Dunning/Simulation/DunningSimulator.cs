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

    /// <summary>How many seeds the population runs with (its own seed and the next ones); figures are their mean and range.</summary>
    public int Seeds { get; init; } = 5;
}

/// <param name="Strategy">"fixed 1,3,5,7" (at the failure's time of day, its own length), "fixed 1,3,5,7 stretched to 8 at 09:00"
/// (at the best local hour the history shows, stretched to the budget), "statistical" or "oracle".</param>
/// <param name="Recovered">Cases recovered by a retry or by a new card, with the policy's emails sent; expected, seed mean.</param>
/// <param name="RecoveredRevenue">Expected revenue recovered, seed mean; <paramref name="RevenueMin"/> and <paramref name="RevenueMax"/> its range over the seeds.</param>
/// <param name="MeanDaysToRecovery">From the first failure to the successful retry or the new card, over the recovered cases; null when none.</param>
/// <param name="WithoutNotifications">The same strategy had the customers never been emailed: new cards come at the daily chance alone.</param>
public sealed record StrategyResult(string Strategy, double Recovered, double RecoveryRate, decimal RecoveredRevenue, decimal RevenueMin,
    decimal RevenueMax, double AttemptsUsed, double? MeanDaysToRecovery, double RecoveredByCard, RecoveryWithoutNotifications WithoutNotifications);

public sealed record RecoveryWithoutNotifications(double Recovered, decimal RecoveredRevenue, double RecoveredByCard);

/// <param name="Seeds">The seeds run; every figure is their mean.</param>
/// <param name="HistoryObservations">Retries made by the first fixed schedule in the history months, which the statistical mode learned from.</param>
/// <param name="EvaluatedCases">Failures after the history months, replayed by every strategy.</param>
/// <param name="LearningCurve">Per month evaluated, the statistical mode's recovered revenue over the oracle's (seed mean).</param>
public sealed record SimulationReport(IReadOnlyList<int> Seeds, int Budget, string Currency, int HistoryCases, int HistoryObservations,
    int EvaluatedCases, decimal AmountDue, IReadOnlyList<StrategyResult> Strategies, IReadOnlyList<double> LearningCurve)
{
    public int Seed => Seeds[0];
}

/// <summary>A failed payment from the installation's history: the dunning case it opened.</summary>
public sealed record RecordedFailure(Guid CaseId, string DeclineCode, DateTimeOffset FirstFailureAt, Money Amount);

/// <param name="RecoveredAt">When the replayed policy's retry succeeded; null when it never did.</param>
public sealed record ReplayedFailure(RecordedFailure Failure, int Retries, DateTimeOffset? RecoveredAt)
{
    public double? DaysToRecovery => RecoveredAt is { } at ? (at - Failure.FirstFailureAt).TotalDays : null;
}

/// <summary>
/// Replays a synthetic population against the real <see cref="RetryScheduler"/> and <see cref="RecoveryStatistics"/>, with
/// the gateway replaced by the population's behaviour, in the conditions production gives: failures at the population's
/// hours, retries planned on the customer's clock under the policy's budget, grace, spacing and window (the card networks'
/// 15 in 30 days), new cards charged at once, the policy's emails on their days.
/// </summary>
/// <remarks>
/// <para>The first fixed schedule runs over the history months with the priors; its retries (those made before the history
/// ends, as a real install would have them) are what the statistical mode starts from, and what picks each fixed schedule's
/// best local hour. Every failure after that is replayed by each fixed schedule as production runs it, by each fixed
/// schedule at its best hour stretched to the full budget, by the statistical mode (refitted month by month from the
/// retries it made itself, see <see cref="LearnMonthByMonth"/>), and by the oracle.</para>
/// <para>Figures are expectations over the retries' outcomes: each strategy's plan (the retries it would make if each
/// failed) is scored with the segment's true chances, 1 − Π(1 − p), so strategies differ by their choices, not their luck.
/// The customer's new card is drawn once per case (see <see cref="CardUpdateBehaviour"/>) and shared by every strategy.</para>
/// <para>The oracle is the same search told each case's true chances, undiscounted: it maximises exactly the expected
/// revenue reported. Every strategy retries on whole hours (failures happen on whole hours) within the same budget,
/// window, grace and spacing, and the oracle's search ranges over every such plan, so for each case no strategy can
/// expect more; a card attached before the final action recovers the case whatever the plan.</para>
/// </remarks>
public sealed class DunningSimulator(RetryScheduler? scheduler = null)
{
    private static readonly TimeSpan Spacing = RetrySchedulerOptions.Default.MinimumSpacing;
    /// <summary>How many history cases choose a fixed schedule's best hour: enough to tell the hours apart, few enough to stay quick.</summary>
    private const int BestHourSample = 3000;

    private readonly RetryScheduler _scheduler = scheduler ?? new RetryScheduler();
    private readonly RetryScheduler _oracle = new(RetrySchedulerOptions.Default with { DailyDiscount = 1 });

    public SimulationReport Run(DunningPopulation population, SimulationOptions options)
    {
        var problems = population.Validate();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems), nameof(population));
        if (options.FixedSchedules.Count == 0) throw new ArgumentException("Give at least one fixed schedule.", nameof(options));
        if (options.Seeds is < 1 or > 100) throw new ArgumentException("Run with 1 to 100 seeds.", nameof(options));
        var budget = options.Budget ?? options.FixedSchedules.Max(s => s.Count);
        var fixedPolicies = options.FixedSchedules
            .Select(days => Valid(DunningPolicySettings.Default with { Mode = RetryMode.Fixed, FixedIntervalsDays = days, AttemptBudget = budget }))
            .ToList();
        var statistical = Valid(DunningPolicySettings.Default with { Mode = RetryMode.Statistical, AttemptBudget = budget });

        var seeds = Enumerable.Range(population.Seed, options.Seeds).ToList();
        var runs = seeds.Select(seed => RunSeed(population with { Seed = seed }, fixedPolicies, statistical)).ToList();
        var first = runs[0];
        var strategies = first.Strategies.Select((s, i) => Combine(s.Name, runs.Select(r => r.Strategies[i]).ToList())).ToList();
        var months = runs.Min(r => r.Strategies[^1].RevenueByMonth.Length);
        var learningCurve = Enumerable.Range(0, months)
            .Select(m => Math.Round(runs.Average(r => r.Strategies[^2].RevenueByMonth[m] / Math.Max(1e-9, r.Strategies[^1].RevenueByMonth[m])), 3))
            .ToList();
        return new SimulationReport(seeds, budget, population.Currency, (int)runs.Average(r => r.HistoryCases),
            (int)runs.Average(r => r.HistoryObservations), (int)runs.Average(r => r.EvaluatedCases),
            Math.Round(runs.Average(r => r.AmountDue), 2), strategies, learningCurve);
    }

    private SeedRun RunSeed(DunningPopulation population, IReadOnlyList<DunningPolicySettings> fixedPolicies, DunningPolicySettings statistical)
    {
        var cases = Cases(population);
        var historyEnd = population.Start.AddMonths(population.History);
        var noticeDays = CardUpdateBehaviour.NoticeDays(statistical);
        var history = cases.Where(c => c.FirstFailureAt < historyEnd).ToList();
        var observations = history.AsParallel().AsOrdered()
            .SelectMany(c => Realised(c, _scheduler.Plan(c.Context, fixedPolicies[0], RecoveryStatistics.Priors),
                c.CardAttachedAt(noticeDays, fixedPolicies[0].FinalActionDay)))
            .Where(o => o.AttemptedAt < historyEnd)
            .ToList();
        var learned = RecoveryStatistics.FromObservations(observations);

        var sample = history.Where((_, i) => i % Math.Max(1, history.Count / BestHourSample) == 0).ToList();
        var strategies = new List<(string Name, Func<SimulatedCase, IReadOnlyList<DateTimeOffset>> Plan)>();
        foreach (var policy in fixedPolicies)
            strategies.Add(($"fixed {string.Join(",", policy.FixedIntervalsDays)}", c => _scheduler.Plan(c.Context, policy, RecoveryStatistics.Priors)));
        foreach (var policy in fixedPolicies)
        {
            var days = Stretch(policy.FixedIntervalsDays, policy.EffectiveBudget, Math.Min(policy.FinalActionDay, DunningPolicySettings.NetworkCapWindowDays));
            var hour = BestHour(sample, days, policy, learned.Mean);
            strategies.Add(($"fixed {string.Join(",", policy.FixedIntervalsDays)} stretched to {days.Count} at {hour:00}:00",
                c => FixedAtHour(c, days, hour, policy)));
        }
        var evaluated = cases.Where(c => c.FirstFailureAt >= historyEnd).ToList();
        var statisticalPlans = LearnMonthByMonth(population, evaluated, observations, statistical, noticeDays);
        strategies.Add(("statistical", c => statisticalPlans[c]));
        strategies.Add(("oracle", c => _oracle.Plan(c.Context, statistical, c.Truth)));

        var results = strategies.Select(s => Score(s.Name, evaluated, s.Plan, noticeDays, statistical.FinalActionDay)).ToList();
        return new SeedRun(history.Count, observations.Count, evaluated.Count, evaluated.Sum(c => c.Amount.Amount), results);
    }

    /// <summary>
    /// The statistical mode as it runs in production, month after month: each month's failures are planned with the model
    /// refitted at the month's start from every retry made by then, the history's and its own (with their outcomes drawn
    /// from the truth), so what it tries in one month teaches the next.
    /// </summary>
    private Dictionary<SimulatedCase, IReadOnlyList<DateTimeOffset>> LearnMonthByMonth(DunningPopulation population,
        IReadOnlyList<SimulatedCase> evaluated, IReadOnlyList<AttemptObservation> history, DunningPolicySettings statistical, IReadOnlyList<int> noticeDays)
    {
        var plans = new Dictionary<SimulatedCase, IReadOnlyList<DateTimeOffset>>(ReferenceEqualityComparer.Instance);
        var own = new List<AttemptObservation>();
        for (var month = population.History; month < population.Months; month++)
        {
            var (from, to) = (population.Start.AddMonths(month), population.Start.AddMonths(month + 1));
            var model = RecoveryStatistics.FromObservations(history.Concat(own.Where(o => o.AttemptedAt < from)));
            var planned = evaluated.Where(c => c.FirstFailureAt >= from && (c.FirstFailureAt < to || month == population.Months - 1))
                .AsParallel().AsOrdered().Select(c => (Case: c, Plan: _scheduler.Plan(c.Context, statistical, model))).ToList();
            foreach (var (c, plan) in planned)
            {
                plans[c] = plan;
                own.AddRange(Realised(c, plan, c.CardAttachedAt(noticeDays, statistical.FinalActionDay)));
            }
        }
        return plans;
    }

    private static DunningPolicySettings Valid(DunningPolicySettings policy)
    {
        var errors = policy.Validate();
        return errors.Count == 0 ? policy : throw new ArgumentException(string.Join(" ", errors.Values));
    }

    /// <summary>
    /// A fixed schedule given <paramref name="budget"/> retries within <paramref name="windowDays"/>: its own days, then more
    /// at its last interval, then, while the window is full, a retry in the middle of the widest gap.
    /// </summary>
    public static IReadOnlyList<int> Stretch(IReadOnlyList<int> days, int budget, int windowDays)
    {
        var stretched = days.Where(d => d < windowDays).Take(budget).ToList();
        if (stretched.Count == 0) stretched.Add(1);
        var interval = stretched.Count > 1 ? stretched[^1] - stretched[^2] : stretched[0];
        while (stretched.Count < budget && stretched[^1] + interval < windowDays) stretched.Add(stretched[^1] + interval);
        while (stretched.Count < budget)
        {
            var gaps = stretched.Prepend(0).Zip(stretched, (from, to) => (From: from, Width: to - from)).ToList();
            var widest = gaps.MaxBy(g => g.Width);
            if (widest.Width < 2) break;
            stretched.Insert(gaps.IndexOf(widest), widest.From + widest.Width / 2);
        }
        return stretched;
    }

    /// <summary>
    /// A fixed schedule retried at one local hour: each retry on its day at that hour, or the next day's when the grace or
    /// spacing forbids it; none when the scheduler would not retry the case at all (a hard decline).
    /// </summary>
    private IReadOnlyList<DateTimeOffset> FixedAtHour(SimulatedCase c, IReadOnlyList<int> days, int hour, DunningPolicySettings policy)
    {
        var plan = new List<DateTimeOffset>();
        if (!_scheduler.Retries(c.Context, policy)) return plan;
        var windowEnd = c.FirstFailureAt.AddDays(Math.Min(policy.FinalActionDay, DunningPolicySettings.NetworkCapWindowDays));
        var earliest = c.FirstFailureAt.AddHours(policy.GracePeriodHours);
        foreach (var day in days)
        {
            var date = TimeZoneInfo.ConvertTime(c.FirstFailureAt.AddDays(day), c.Zone).Date;
            var at = AtLocalHour(date, hour, c.Zone);
            while (at < earliest) at = AtLocalHour(date = date.AddDays(1), hour, c.Zone);
            if (at > windowEnd) break;
            plan.Add(at);
            earliest = at + Spacing;
        }
        return plan;
    }

    private static DateTimeOffset AtLocalHour(DateTime date, int hour, TimeZoneInfo zone)
    {
        var local = DateTime.SpecifyKind(date.Date.AddHours(hour), DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local)) local = local.AddHours(1);
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <summary>The local hour at which the schedule would have recovered most of the history's sample, by the learned model.</summary>
    private int BestHour(IReadOnlyList<SimulatedCase> sample, IReadOnlyList<int> days, DunningPolicySettings policy, IRecoveryModel learned) =>
        Enumerable.Range(0, 24).AsParallel()
            .Select(hour => (Hour: hour, Revenue: sample.Sum(c => (double)c.Amount.Amount * Expect(c, FixedAtHour(c, days, hour, policy), null, learned).Recovered)))
            .OrderByDescending(h => h.Revenue).ThenBy(h => h.Hour).First().Hour;

    /// <summary>The expected outcome of a plan: retry k succeeds with p(k) if the earlier ones failed; a card attached first ends it.</summary>
    private static Expected Expect(SimulatedCase c, IReadOnlyList<DateTimeOffset> plan, DateTimeOffset? cardAttachedAt, IRecoveryModel model)
    {
        double open = 1, recovered = 0, attempts = 0, days = 0;
        for (var k = 0; k < plan.Count && !(plan[k] >= cardAttachedAt); k++)
        {
            var p = model.Probability(c.Context.QueryAt(plan[k], k + 1));
            attempts += open;
            recovered += open * p;
            days += open * p * (plan[k] - c.FirstFailureAt).TotalDays;
            open *= 1 - p;
        }
        if (cardAttachedAt is not { } card) return new Expected(recovered, 0, attempts, days);
        return new Expected(recovered + open, open, attempts, days + open * (card - c.FirstFailureAt).TotalDays);
    }

    /// <summary>The retries of a plan as they happen: each draws the case's next random number, until one succeeds or a card comes first.</summary>
    private static IEnumerable<AttemptObservation> Realised(SimulatedCase c, IReadOnlyList<DateTimeOffset> plan, DateTimeOffset? cardAttachedAt)
    {
        var luck = new SplitMix64(c.OutcomeSeed);
        for (var k = 0; k < plan.Count && !(plan[k] >= cardAttachedAt); k++)
        {
            var succeeded = luck.NextDouble() < c.Truth.Probability(c.Context.QueryAt(plan[k], k + 1));
            yield return new AttemptObservation(c.DeclineCode, k + 1, c.FirstFailureAt, plan[k], succeeded, c.Zone);
            if (succeeded) yield break;
        }
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
            var c = new SimulatedCase(failure.DeclineCode, outcomes, failure.FirstFailureAt, TimeZoneInfo.Utc, failure.Amount, null, double.PositiveInfinity, seed);
            var retries = Realised(c, _scheduler.Plan(c.Context, policy, scheduling), null).ToList();
            caseDone?.Invoke();
            return new ReplayedFailure(failure, retries.Count, retries.Count > 0 && retries[^1].Succeeded ? retries[^1].AttemptedAt : null);
        }).ToList();

    private static StrategyScore Score(string name, IReadOnlyList<SimulatedCase> cases, Func<SimulatedCase, IReadOnlyList<DateTimeOffset>> plan,
        IReadOnlyList<int> noticeDays, int finalActionDay)
    {
        var outcomes = cases.AsParallel().AsOrdered().Select(c =>
        {
            var retries = plan(c);
            return (Case: c, Notified: Expect(c, retries, c.CardAttachedAt(noticeDays, finalActionDay), c.Truth),
                Unnotified: Expect(c, retries, c.CardAttachedAt([], finalActionDay), c.Truth));
        }).ToList();
        return new StrategyScore(name, cases.Count,
            [.. outcomes.GroupBy(o => (o.Case.FirstFailureAt.Year, o.Case.FirstFailureAt.Month)).OrderBy(g => g.Key)
                .Select(g => g.Sum(o => o.Notified.Recovered * (double)o.Case.Amount.Amount))],
            outcomes.Sum(o => o.Notified.Recovered), outcomes.Sum(o => o.Notified.Recovered * (double)o.Case.Amount.Amount),
            outcomes.Sum(o => o.Notified.Attempts), outcomes.Sum(o => o.Notified.Days), outcomes.Sum(o => o.Notified.ByCard),
            outcomes.Sum(o => o.Unnotified.Recovered), outcomes.Sum(o => o.Unnotified.Recovered * (double)o.Case.Amount.Amount),
            outcomes.Sum(o => o.Unnotified.ByCard));
    }

    private static StrategyResult Combine(string name, IReadOnlyList<StrategyScore> seeds)
    {
        var recovered = seeds.Average(s => s.Recovered);
        var days = seeds.Sum(s => s.Recovered) > 0 ? seeds.Sum(s => s.Days) / seeds.Sum(s => s.Recovered) : (double?)null;
        return new StrategyResult(name, Math.Round(recovered, 1), seeds.Average(s => s.Cases == 0 ? 0 : s.Recovered / s.Cases),
            Money(seeds.Average(s => s.Revenue)), Money(seeds.Min(s => s.Revenue)), Money(seeds.Max(s => s.Revenue)),
            Math.Round(seeds.Average(s => s.Attempts), 1), days, Math.Round(seeds.Average(s => s.ByCard), 1),
            new RecoveryWithoutNotifications(Math.Round(seeds.Average(s => s.UnnotifiedRecovered), 1), Money(seeds.Average(s => s.UnnotifiedRevenue)),
                Math.Round(seeds.Average(s => s.UnnotifiedByCard), 1)));
    }

    private static decimal Money(double amount) => Math.Round((decimal)amount, 2);

    private static List<SimulatedCase> Cases(DunningPopulation population)
    {
        var start = population.Start;
        var days = (int)(start.AddMonths(population.Months) - start).TotalDays;
        var totalWeight = population.Segments.Sum(s => s.Weight);
        var zones = population.Segments.SelectMany(s => s.TimeZones).Select(z => z.Zone).Distinct()
            .ToDictionary(z => z, TimeZoneInfo.FindSystemTimeZoneById);
        return Enumerable.Range(0, population.Customers).Select(customer =>
        {
            var random = new SplitMix64(SplitMix64.Mix((ulong)population.Seed, (ulong)customer));
            var segment = Pick(population.Segments, s => s.Weight, random.NextDouble() * totalWeight);
            var zone = segment.TimeZones.Count == 0 ? TimeZoneInfo.Utc
                : zones[Pick(segment.TimeZones, z => z.Weight, random.NextDouble() * segment.TimeZones.Sum(z => z.Weight)).Zone];
            var hours = segment.FailureHours?.Weights ?? Enumerable.Repeat(1.0, 24).ToArray();
            var hour = Pick(Enumerable.Range(0, 24).ToList(), h => hours[h], random.NextDouble() * hours.Sum());
            // Failures spread evenly over the days, at the hour of the segment's billing run (UTC) or of the customer's day.
            var date = start.UtcDateTime.Date.AddDays(Math.Floor(days * (customer + 0.5) / population.Customers));
            var failedAt = segment.FailureHours?.IsLocal == true ? AtLocalHour(date, hour, zone) : new DateTimeOffset(date.AddHours(hour), TimeSpan.Zero);
            var range = segment.Amount ?? population.Amount;
            var amount = Math.Round(range.Min + (decimal)random.NextDouble() * (range.Max - range.Min), 2);
            var cardExposure = -Math.Log(1 - random.NextDouble());
            return new SimulatedCase(segment.DeclineCode, segment, failedAt, zone, new Money(amount, range.Currency), segment.Cards, cardExposure,
                random.NextUInt64());
        }).ToList();
    }

    private static T Pick<T>(IReadOnlyList<T> items, Func<T, double> weight, double point)
    {
        foreach (var item in items)
        {
            if (point < weight(item)) return item;
            point -= weight(item);
        }
        return items[^1];
    }

    /// <param name="Truth">How the customer's retries really fare: the population's segment, or the model learned from a real history.</param>
    /// <param name="Zone">The customer's time zone, whose clock the retries are planned on.</param>
    /// <param name="Cards">How the customer attaches a new card; null when that is not modelled.</param>
    /// <param name="CardExposure">The customer's draw of when they act (see <see cref="CardUpdateBehaviour.AttachedAt"/>).</param>
    private sealed record SimulatedCase(string DeclineCode, IRecoveryModel Truth, DateTimeOffset FirstFailureAt, TimeZoneInfo Zone, Money Amount,
        CardUpdateBehaviour? Cards, double CardExposure, ulong OutcomeSeed)
    {
        public RetryContext Context { get; } = new(DeclineCode, DeclineCode, FirstFailureAt, [], Amount, Zone, FirstFailureAt);

        public DateTimeOffset? CardAttachedAt(IReadOnlyList<int> noticeDays, int finalActionDay) =>
            Cards?.AttachedAt(FirstFailureAt, CardExposure, noticeDays, finalActionDay);
    }

    /// <param name="Recovered">Expected chance the case is recovered; <paramref name="ByCard"/> of it by a new card.</param>
    /// <param name="Days">Expected days to recovery, weighted by the chance of each way it is recovered.</param>
    private readonly record struct Expected(double Recovered, double ByCard, double Attempts, double Days);

    private sealed record StrategyScore(string Name, int Cases, double[] RevenueByMonth, double Recovered, double Revenue, double Attempts, double Days, double ByCard,
        double UnnotifiedRecovered, double UnnotifiedRevenue, double UnnotifiedByCard);

    private sealed record SeedRun(int HistoryCases, int HistoryObservations, int EvaluatedCases, decimal AmountDue, IReadOnlyList<StrategyScore> Strategies);
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
