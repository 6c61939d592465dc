using System.Globalization;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;

namespace BillingConsole.Engine.Dunning;

/// <summary>Tuning of the retry search that is not business policy.</summary>
public sealed record RetrySchedulerOptions
{
    /// <summary>Retries closer together than this rarely find anything changed and look like hammering to issuers.</summary>
    public TimeSpan MinimumSpacing { get; init; } = TimeSpan.FromHours(12);

    /// <summary>
    /// What money recovered a day later is worth against today: the time value of money and the chance that the customer
    /// leaves meanwhile. It also makes the search prefer the sooner of two equally good slots.
    /// </summary>
    public double DailyDiscount { get; init; } = 0.99;

    public static RetrySchedulerOptions Default { get; } = new();
}

/// <summary>
/// Picks the time of the next retry of a dunning case, or says why there is none. Pure: everything it knows comes in
/// through <see cref="RetryContext"/>, the policy and the recovery model.
/// </summary>
/// <remarks>
/// <para>Rules that hold in both modes: hard declines are never retried; the retries of a case never exceed the
/// policy's <see cref="DunningPolicySettings.EffectiveBudget"/> (at most 15) and all fall within
/// min(final-action day, 30) days of the first failure, so no 30 days ever hold more than the card networks' 15; the first
/// retry waits for the grace period; retries are at least <see cref="RetrySchedulerOptions.MinimumSpacing"/> apart.</para>
/// <para>Fixed mode retries on the policy's days after the first failure, held back to the earliest allowed time.</para>
/// <para>Statistical mode plans all the remaining retries at once and takes the first of the plan. The candidates are the
/// earliest allowed time and every whole hour after it until the window closes. A small dynamic program over
/// (candidate, retries left) maximises the expected discounted recovery
/// V(i, k) = max(V(i + 1, k), p(i) · d(i) + (1 − p(i)) · V(next(i), k − 1)), where p comes from the model, d is the
/// daily discount and next(i) is the first candidate the minimum spacing allows after i. So it retries soon while the
/// decay costs more than a better slot gains, waits for a payday, weekday or hour when that is worth more, and keeps
/// enough room for the retries it has left.</para>
/// </remarks>
public sealed class RetryScheduler(RetrySchedulerOptions? options = null)
{
    private const double NotableMultiplier = 1.1;
    private readonly RetrySchedulerOptions _options = options ?? RetrySchedulerOptions.Default;

    public RetryDecision Next(RetryContext context, DunningPolicySettings policy, IRecoveryModel model)
    {
        if (Refusal(context, policy) is { } stop) return stop;
        var earliest = Earliest(context, policy);
        return policy.Mode == RetryMode.Fixed
            ? Fixed(context, policy, model, Max(earliest, context.FirstFailureAt.AddDays(policy.FixedIntervalsDays[context.RetriesMade])))
            : Statistical(context, policy, model, earliest, Window(context, policy).End);
    }

    /// <summary>Whether the case gets a retry at all now (not a hard decline, budget and window left).</summary>
    public bool Retries(RetryContext context, DunningPolicySettings policy) => Refusal(context, policy) is null;

    /// <summary>
    /// The retries the scheduler would make one after another if each of them failed: what asking <see cref="Next"/> again at
    /// each retry's time would give. In statistical mode one search gives it all: the plan's tail is the best plan from its
    /// first retry on, so asking again chooses the same. Empty when the case is not to be retried.
    /// </summary>
    public IReadOnlyList<DateTimeOffset> Plan(RetryContext context, DunningPolicySettings policy, IRecoveryModel model)
    {
        if (Refusal(context, policy) is not null) return [];
        if (policy.Mode == RetryMode.Statistical)
            return new PlanSearch(context, policy, model, Candidates(Earliest(context, policy), Window(context, policy).End), _options).Walk();
        var plan = new List<DateTimeOffset>();
        var made = context.RetriesMadeAt.ToList();
        while (Next(context with { RetriesMadeAt = made, Now = made.Count == 0 ? context.Now : Max(context.Now, made.Max()) }, policy, model)
               is RetryDecision.Retry retry)
        {
            plan.Add(retry.At);
            made.Add(retry.At);
        }
        return plan;
    }

    /// <summary>Why the case gets no retry now, or null when it gets one.</summary>
    private RetryDecision.Stop? Refusal(RetryContext context, DunningPolicySettings policy)
    {
        if (context.LastDeclineCode == DeclineCodes.AuthenticationRequired)
            return new RetryDecision.Stop(StopKind.AuthenticationRequired,
                "The bank asks the customer to authenticate the payment: retried off-session it would fail again, so the case waits for the customer to confirm it on their pay page.");
        if (policy.IsHardDecline(context.LastDeclineCode))
            return new RetryDecision.Stop(StopKind.HardDecline,
                $"{context.LastDeclineCode} is a hard decline: the same card cannot succeed, so the case waits for a new payment method.");
        var made = context.RetriesMade;
        if (made >= policy.EffectiveBudget)
            return new RetryDecision.Stop(StopKind.BudgetExhausted, $"All {policy.EffectiveBudget} retries of the attempt budget are used.");
        var isFixed = policy.Mode == RetryMode.Fixed;
        if (isFixed && made >= policy.FixedIntervalsDays.Count)
            return new RetryDecision.Stop(StopKind.BudgetExhausted, $"All {policy.FixedIntervalsDays.Count} retries of the fixed schedule are used.");

        var (windowEnd, windowReason) = Window(context, policy);
        var earliest = Earliest(context, policy);
        var planned = isFixed ? Max(earliest, context.FirstFailureAt.AddDays(policy.FixedIntervalsDays[made])) : earliest;
        return planned > windowEnd ? new RetryDecision.Stop(StopKind.WindowOver, $"No retry fits before {windowReason}.") : null;
    }

    /// <summary>Retries must fall by the final-action day and within the card networks' 30 days of the first failure.</summary>
    private static (DateTimeOffset End, string Reason) Window(RetryContext context, DunningPolicySettings policy)
    {
        var days = Math.Min(policy.FinalActionDay, DunningPolicySettings.NetworkCapWindowDays);
        var reason = policy.FinalActionDay <= DunningPolicySettings.NetworkCapWindowDays
            ? $"the final action on day {days}"
            : $"the card networks' {days}-day window closes";
        return (context.FirstFailureAt.AddDays(days), reason);
    }

    private DateTimeOffset Earliest(RetryContext context, DunningPolicySettings policy)
    {
        var earliest = Max(context.Now, context.FirstFailureAt.AddHours(policy.GracePeriodHours));
        return context.LastRetryAt is { } last ? Max(earliest, last + _options.MinimumSpacing) : earliest;
    }

    private static RetryDecision Fixed(RetryContext context, DunningPolicySettings policy, IRecoveryModel model, DateTimeOffset at)
    {
        var number = context.RetriesMade + 1;
        var day = policy.FixedIntervalsDays[context.RetriesMade];
        var held = at > context.FirstFailureAt.AddDays(day) ? ", held back to the earliest allowed time" : string.Empty;
        var probability = model.Probability(context.QueryAt(at, number));
        return new RetryDecision.Retry(at, probability, Invariant(
            $"Retry {number} of {RetriesAllowed(context, policy)} on day {day} of the fixed schedule ({string.Join(", ", policy.FixedIntervalsDays)}){held}; estimated {probability * 100:0}%."));
    }

    private RetryDecision Statistical(RetryContext context, DunningPolicySettings policy, IRecoveryModel model,
        DateTimeOffset earliest, DateTimeOffset windowEnd)
    {
        var search = new PlanSearch(context, policy, model, Candidates(earliest, windowEnd), _options);
        var chosen = search.FirstTaken(0, search.RetriesLeft);
        var query = search.Queries[chosen] with { AttemptNumber = context.RetriesMade + 1 };
        var probability = model.Probability(query);
        return new RetryDecision.Retry(search.Slots[chosen], probability,
            Reason(context, policy, model, query, chosen == 0, probability));
    }

    /// <summary>
    /// The dynamic program over (candidate, retries left): <see cref="Values"/>[k][i] is the best expected discounted recovery
    /// from candidate i on with k retries (a sentinel 0 past the last candidate).
    /// </summary>
    private sealed class PlanSearch
    {
        private readonly int[] _next;
        private readonly double[] _discount;
        // The chance at slot i of each retry still to make (one column when the model ignores the retry number).
        private readonly double[] _chances;
        private readonly int _columns;

        public PlanSearch(RetryContext context, DunningPolicySettings policy, IRecoveryModel model, DateTimeOffset[] slots, RetrySchedulerOptions options)
        {
            Slots = slots;
            var count = slots.Length;
            _next = NextAllowed(slots, options.MinimumSpacing);
            Queries = context.QueriesAt(slots);
            _discount = Discounts(slots, context.Now, options.DailyDiscount);
            RetriesLeft = policy.EffectiveBudget - context.RetriesMade;
            _columns = model.UsesAttemptNumber ? RetriesLeft : 1;
            _chances = new double[count * _columns];
            for (var i = 0; i < count; i++)
                model.Probabilities(Queries[i] with { AttemptNumber = context.RetriesMade + 1 }, _chances.AsSpan(i * _columns, _columns));
            Values = new double[RetriesLeft + 1][];
            Values[0] = new double[count + 1];
            for (var retries = 1; retries <= RetriesLeft; retries++)
            {
                var current = Values[retries] = new double[count + 1];
                for (var i = count - 1; i >= 0; i--) current[i] = Math.Max(Take(i, retries), current[i + 1]);
            }
        }

        public DateTimeOffset[] Slots { get; }
        public RecoveryQuery[] Queries { get; }
        public int RetriesLeft { get; }
        public double[][] Values { get; }

        /// <summary>Each slot's discount from now; the slots after the first are whole hours one after another.</summary>
        private static double[] Discounts(DateTimeOffset[] slots, DateTimeOffset now, double dailyDiscount)
        {
            var discounts = new double[slots.Length];
            var hourly = Math.Pow(dailyDiscount, 1.0 / 24);
            for (var i = 0; i < slots.Length; i++)
                discounts[i] = i < 2 ? Math.Pow(dailyDiscount, (slots[i] - now).TotalDays) : discounts[i - 1] * hourly;
            return discounts;
        }

        /// <summary>Retrying at candidate i with <paramref name="retries"/> left, then going on as well as possible.</summary>
        private double Take(int i, int retries)
        {
            var p = _chances[i * _columns + Math.Min(RetriesLeft - retries, _columns - 1)];
            return p * _discount[i] + (1 - p) * Values[retries - 1][_next[i]];
        }

        /// <summary>The first candidate from <paramref name="from"/> on where retrying beats waiting, with <paramref name="retries"/> left.</summary>
        public int FirstTaken(int from, int retries)
        {
            var chosen = from;
            while (chosen < Slots.Length - 1 && Take(chosen, retries) < Values[retries][chosen + 1]) chosen++;
            return chosen;
        }

        public IReadOnlyList<DateTimeOffset> Walk()
        {
            var plan = new List<DateTimeOffset>();
            for (var (from, retries) = (0, RetriesLeft); retries > 0 && from < Slots.Length; retries--)
            {
                var chosen = FirstTaken(from, retries);
                plan.Add(Slots[chosen]);
                from = _next[chosen];
            }
            return plan;
        }
    }

    /// <summary>The earliest allowed time, then every whole hour after it up to the end of the window.</summary>
    private static DateTimeOffset[] Candidates(DateTimeOffset earliest, DateTimeOffset windowEnd)
    {
        var hour = TimeSpan.TicksPerHour;
        var firstWholeHour = new DateTimeOffset((earliest.UtcTicks / hour + 1) * hour, TimeSpan.Zero);
        var wholeHours = firstWholeHour > windowEnd ? 0 : (int)((windowEnd - firstWholeHour).Ticks / hour) + 1;
        var slots = new DateTimeOffset[wholeHours + 1];
        slots[0] = earliest;
        for (var h = 0; h < wholeHours; h++) slots[h + 1] = firstWholeHour.AddHours(h);
        return slots;
    }

    /// <summary>For each candidate, the first candidate the minimum spacing allows after it (the count when none).</summary>
    private static int[] NextAllowed(DateTimeOffset[] slots, TimeSpan spacing)
    {
        var next = new int[slots.Length];
        var j = 0;
        for (var i = 0; i < slots.Length; i++)
        {
            while (j < slots.Length && slots[j] < slots[i] + spacing) j++;
            next[i] = j;
        }
        return next;
    }

    private static string Reason(RetryContext context, DunningPolicySettings policy, IRecoveryModel model, RecoveryQuery query,
        bool soonest, double probability)
    {
        var notable = model.Explain(query).Where(f => f.Multiplier >= NotableMultiplier).OrderByDescending(f => f.Multiplier).Take(3)
            .Select(f => Invariant($"{f.Description} {f.Multiplier:0.0}×")).ToList();
        var when = Invariant($"Retry {query.AttemptNumber} of {RetriesAllowed(context, policy)} on {query.LocalTime:ddd d MMM HH:mm} (customer's time)");
        var why = (soonest, notable.Count) switch
        {
            (true, 0) => $"as soon as allowed: no later slot is enough better for {query.DeclineCode} to wait for",
            (true, _) => $"as soon as allowed: {Join(notable)} better than average for {query.DeclineCode}",
            (false, 0) => $"the best chance for {query.DeclineCode} among the slots left",
            (false, _) => $"{Join(notable)} better than average for {query.DeclineCode}",
        };
        return Invariant($"{when}: {why}; estimated {probability * 100:0}%.");
    }

    private static int RetriesAllowed(RetryContext context, DunningPolicySettings policy) =>
        policy.Mode == RetryMode.Fixed ? Math.Min(policy.EffectiveBudget, policy.FixedIntervalsDays.Count) : policy.EffectiveBudget;

    private static string Join(IReadOnlyList<string> parts) =>
        parts.Count == 1 ? parts[0] : string.Join(", ", parts.Take(parts.Count - 1)) + " and " + parts[^1];

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a >= b ? a : b;
}
