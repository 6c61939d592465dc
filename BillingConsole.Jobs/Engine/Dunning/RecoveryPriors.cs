using BillingConsole.Domain.Payments;

namespace BillingConsole.Engine.Dunning;

/// <summary>
/// What <see cref="RecoveryStatistics"/> believes before it has seen any history, and how much history it takes to
/// change its mind. A new install schedules from these alone; each figure is pulled toward the project's own data as
/// attempts accumulate.
/// </summary>
public sealed record RecoveryPriors
{
    /// <summary>Chance that a retry succeeds on an average slot the day the case opened, per decline code.</summary>
    public IReadOnlyDictionary<string, double> BaseRates { get; init; } = new Dictionary<string, double>
    {
        // Money usually comes back: on payday, or when the customer moves some.
        [DeclineCodes.InsufficientFunds] = 0.25,
        // The issuer's catch-all, often a fraud rule that keeps saying no.
        [DeclineCodes.DoNotHonor] = 0.15,
        // A transient issuer or processor problem: most of these clear on their own.
        [DeclineCodes.TryAgainLater] = 0.35,
        [DeclineCodes.GenericDecline] = 0.15,
    };

    /// <summary>For decline codes neither listed above nor seen in the history.</summary>
    public double OtherBaseRate { get; init; } = 0.15;

    /// <summary>Indexed by <see cref="DayOfWeek"/> (Sunday first). Mild: deposits post on working days, weekends do slightly worse.</summary>
    public IReadOnlyList<double> Weekday { get; init; } = [0.90, 1.00, 1.05, 1.05, 1.00, 1.05, 0.95];

    /// <summary>
    /// By local hour. Early morning is slightly better: overnight deposits have posted and the day's spending has not
    /// started; late night is slightly worse.
    /// </summary>
    public IReadOnlyList<double> Hour { get; init; } =
        [0.85, 0.85, 0.85, 0.85, 1.15, 1.15, 1.15, 1.15, 1.15, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 0.95, 0.95, 0.95, 0.95, 0.90, 0.90];

    /// <summary>
    /// By local day of month, days 1 to 30 then the month's last day (see <see cref="RecoveryLevels.DayOfMonth"/>):
    /// the common paydays (the 1st, the 15th, the last day) and the two days after each do better.
    /// </summary>
    public IReadOnlyList<double> DayOfMonth { get; init; } = PaydayPrior();

    /// <summary>
    /// By retry number. Flat: the time since the failure already carries most of why late retries fail, and the two
    /// cannot be told apart in a history made by one fixed schedule.
    /// </summary>
    public IReadOnlyList<double> AttemptNumber { get; init; } = Enumerable.Repeat(1.0, RecoveryLevels.AttemptNumbers).ToArray();

    /// <summary>Relative loss of recovery chance per day since the failure (0.03: about a quarter less after ten days).</summary>
    public double DecayPerDay { get; init; } = 0.03;

    /// <summary>A base rate moves halfway to the data after this many attempts with that decline code.</summary>
    public double BasePseudoAttempts { get; init; } = 40;

    /// <summary>
    /// A weekday, hour, day-of-month or retry-number multiplier, pooled over all decline codes, moves halfway to the data
    /// once the attempts at that level would have been expected to bring this many successes.
    /// </summary>
    public double LevelPseudoSuccesses { get; init; } = 50;

    /// <summary>The same for one decline code's own multiplier, which is pulled toward the pooled one rather than the prior.</summary>
    public double CodeLevelPseudoSuccesses { get; init; } = 25;

    /// <summary>How far the pooled decay may plausibly be from <see cref="DecayPerDay"/> (a standard deviation, per day).</summary>
    public double DecaySpread { get; init; } = 0.02;

    /// <summary>How far one decline code's decay may plausibly be from the pooled one.</summary>
    public double CodeDecaySpread { get; init; } = 0.015;

    /// <summary>
    /// How many standard deviations of a level's multiplier the scheduler adds before it plans (an upper-confidence rule):
    /// a weekday, hour, day of month or retry number tried rarely looks a little better than its estimate, so the scheduler
    /// tries it and learns what a history made at one time of day cannot show. 0 plans on the estimates alone.
    /// </summary>
    public double Exploration { get; init; } = 1;

    public static RecoveryPriors Default { get; } = new();

    public double BaseRate(string declineCode) => BaseRates.TryGetValue(declineCode, out var rate) ? rate : OtherBaseRate;

    private static double[] PaydayPrior()
    {
        var levels = Enumerable.Repeat(0.95, RecoveryLevels.DaysOfMonth).ToArray();
        (int Day, double Multiplier)[] boosts = [(1, 1.30), (2, 1.20), (3, 1.10), (15, 1.25), (16, 1.15), (17, 1.05)];
        foreach (var (day, multiplier) in boosts) levels[day - 1] = multiplier;
        levels[RecoveryLevels.LastDayOfMonth] = 1.20;
        return levels;
    }
}

/// <summary>The levels the recovery statistics are counted by, shared by the model and the SQL that aggregates history for it.</summary>
public static class RecoveryLevels
{
    public const int Weekdays = 7;
    public const int Hours = 24;
    /// <summary>Days 1 to 30 of a month that are not its last day, then the last day, whatever its number.</summary>
    public const int DaysOfMonth = 31;
    public const int LastDayOfMonth = 30;
    /// <summary>Retries 1 to 15 (the network cap); anything later counts as the 15th.</summary>
    public const int AttemptNumbers = 15;
    /// <summary>Whole days since the first failure are counted up to 30; later ones as 30.</summary>
    public const int MaxDays = 30;

    public static int DayOfMonth(DateTime local) => DayOfMonth(local.Day, local.Day == DateTime.DaysInMonth(local.Year, local.Month));

    public static int DayOfMonth(int day, bool isLastDayOfMonth) => isLastDayOfMonth ? LastDayOfMonth : Math.Clamp(day, 1, 30) - 1;

    public static int Attempt(int attemptNumber) => Math.Clamp(attemptNumber, 1, AttemptNumbers) - 1;

    public static int Days(double daysSinceFirstFailure) => (int)Math.Clamp(Math.Floor(daysSinceFirstFailure), 0, MaxDays);
}
