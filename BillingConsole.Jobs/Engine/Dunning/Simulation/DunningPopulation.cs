using System.Globalization;
using System.Text.Json;

namespace BillingConsole.Engine.Dunning.Simulation;

/// <summary>
/// A synthetic set of failed payments for <see cref="DunningSimulator"/>: each customer fails once, at a time spread
/// evenly over <see cref="Months"/>, and belongs to one segment, which decides how their retries would fare.
/// </summary>
public sealed record DunningPopulation
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip };

    public int Seed { get; init; }
    public int Customers { get; init; }
    public int Months { get; init; }
    /// <summary>The first months, whose failures are the history the statistical mode learns from; half the months when absent.</summary>
    public int? HistoryMonths { get; init; }
    public DateTimeOffset Start { get; init; } = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public AmountRange Amount { get; init; } = new(10m, 100m);
    public IReadOnlyList<PopulationSegment> Segments { get; init; } = [];

    public int History => HistoryMonths ?? Math.Max(1, Months / 2);

    public static DunningPopulation Parse(string json) =>
        JsonSerializer.Deserialize<DunningPopulation>(json, Json) ?? throw new JsonException("The population file is empty.");

    /// <summary>Every problem with the population, as a person should read it. Empty when it can be simulated.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Customers < 1) errors.Add("customers must be at least 1.");
        if (Months < 2) errors.Add("months must be at least 2: history first, then the months evaluated.");
        else if (History < 1 || History >= Months) errors.Add($"historyMonths must be between 1 and {Months - 1}.");
        if (Amount is null || Amount.Min <= 0 || Amount.Max < Amount.Min) errors.Add("amount needs 0 < min <= max.");
        if (Segments.Count == 0) errors.Add("Give at least one segment.");
        errors.AddRange(Segments.SelectMany((segment, i) => segment.Validate().Select(e => $"segments[{i}]: {e}")));
        return errors;
    }
}

public sealed record AmountRange(decimal Min, decimal Max);

/// <summary>
/// Customers who fail alike. A retry at local time t succeeds with probability
/// min(1, baseSuccess × weekday[t] × hour[t] × (paydayBoost within paydayWindowDays from a payday, else 1) × dailyDecay^days since the
/// first failure); besides, the customer fixes the card on any day with probability fixCardPerDay, after which the next
/// retry succeeds. Also the oracle's model: the probabilities the scheduler would use if it knew them.
/// </summary>
public sealed record PopulationSegment : IRecoveryModel
{
    public double Weight { get; init; } = 1;
    public string DeclineCode { get; init; } = string.Empty;
    public double BaseSuccess { get; init; }
    /// <summary>Days of the month; a day the month lacks means its last day (31: the last day of every month).</summary>
    public IReadOnlyList<int> Paydays { get; init; } = [];
    public double PaydayBoost { get; init; } = 1;
    /// <summary>How many days, the payday first, the boost lasts.</summary>
    public int PaydayWindowDays { get; init; }
    /// <summary>Seven multipliers, Monday first.</summary>
    public IReadOnlyList<double> Weekday { get; init; } = Enumerable.Repeat(1.0, 7).ToArray();
    /// <summary>Twenty-four multipliers, from 00:00.</summary>
    public IReadOnlyList<double> Hour { get; init; } = Enumerable.Repeat(1.0, 24).ToArray();
    public double DailyDecay { get; init; } = 1;
    public double FixCardPerDay { get; init; }

    public double Probability(in RecoveryQuery query)
    {
        var local = query.LocalTime;
        var p = BaseSuccess * WeekdayMultiplier(local) * Hour[local.Hour] * PaydayMultiplier(local)
            * Math.Pow(DailyDecay, Math.Max(0, query.DaysSinceFirstFailure));
        return Math.Min(1, p);
    }

    public IReadOnlyList<RecoveryFactor> Explain(in RecoveryQuery query) =>
    [
        new(query.LocalTime.DayOfWeek.ToString(), WeekdayMultiplier(query.LocalTime)),
        new(query.LocalTime.ToString("HH:00", CultureInfo.InvariantCulture), Hour[query.LocalTime.Hour]),
        new("a payday window", PaydayMultiplier(query.LocalTime)),
    ];

    private double WeekdayMultiplier(DateTime local) => Weekday[((int)local.DayOfWeek + 6) % 7];

    private double PaydayMultiplier(DateTime local)
    {
        for (var back = 0; back < PaydayWindowDays; back++)
        {
            var day = local.Date.AddDays(-back);
            var daysInMonth = DateTime.DaysInMonth(day.Year, day.Month);
            for (var i = 0; i < Paydays.Count; i++)
                if (Math.Min(Paydays[i], daysInMonth) == day.Day) return PaydayBoost;
        }
        return 1;
    }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Weight <= 0) errors.Add("weight must be positive.");
        if (string.IsNullOrWhiteSpace(DeclineCode)) errors.Add("declineCode is required.");
        if (BaseSuccess is < 0 or > 1) errors.Add("baseSuccess must be between 0 and 1.");
        if (Paydays.Any(d => d is < 1 or > 31)) errors.Add("paydays are days of the month, 1 to 31.");
        if (PaydayBoost < 0 || PaydayWindowDays < 0) errors.Add("paydayBoost and paydayWindowDays must not be negative.");
        if (Weekday.Count != 7 || Weekday.Any(m => m < 0)) errors.Add("weekday needs 7 multipliers (Monday first), none negative.");
        if (Hour.Count != 24 || Hour.Any(m => m < 0)) errors.Add("hour needs 24 multipliers (from 00:00), none negative.");
        if (DailyDecay is <= 0 or > 1.5) errors.Add("dailyDecay must be above 0 (1 for no decay).");
        if (FixCardPerDay is < 0 or >= 1) errors.Add("fixCardPerDay must be at least 0 and below 1.");
        return errors;
    }
}
