using System.Globalization;
using System.Text.Json;

namespace BillingConsole.Engine.Dunning.Simulation;

/// <summary>
/// A synthetic set of failed payments for <see cref="DunningSimulator"/>: each customer fails once, on a day spread
/// evenly over <see cref="Months"/> at an hour of their segment's <see cref="PopulationSegment.FailureHours"/>, and belongs
/// to one segment, which decides how their retries would fare. Format 2 (docs/populations/) adds per-segment fields to
/// format 1; a format 1 file loads unchanged.
/// </summary>
public sealed record DunningPopulation
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip };

    /// <summary>The file's format: 1 (the first, with one amount range and every failure at any hour in UTC) or 2.</summary>
    public int Version { get; init; } = 1;
    public int Seed { get; init; }
    public int Customers { get; init; }
    public int Months { get; init; }
    /// <summary>The first months, whose failures are the history the statistical mode learns from; half the months when absent.</summary>
    public int? HistoryMonths { get; init; }
    public DateTimeOffset Start { get; init; } = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public AmountRange Amount { get; init; } = new(10m, 100m);
    public IReadOnlyList<PopulationSegment> Segments { get; init; } = [];

    public int History => HistoryMonths ?? Math.Max(1, Months / 2);

    /// <summary>The currency every segment owes.</summary>
    public string Currency => (Segments.FirstOrDefault()?.Amount ?? Amount).Currency;

    public static DunningPopulation Parse(string json) =>
        JsonSerializer.Deserialize<DunningPopulation>(json, Json) ?? throw new JsonException("The population file is empty.");

    /// <summary>Every problem with the population, as a person should read it. Empty when it can be simulated.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Version is not (1 or 2)) errors.Add("version must be 1 or 2.");
        if (Customers < 1) errors.Add("customers must be at least 1.");
        if (Months < 2) errors.Add("months must be at least 2: history first, then the months evaluated.");
        else if (History < 1 || History >= Months) errors.Add($"historyMonths must be between 1 and {Months - 1}.");
        if (Amount is null || Amount.Min <= 0 || Amount.Max < Amount.Min) errors.Add("amount needs 0 < min <= max.");
        if (Segments.Count == 0) errors.Add("Give at least one segment.");
        else if (Segments.Select(s => (s.Amount ?? Amount)?.Currency).Distinct().Count() > 1)
            errors.Add("Every segment must owe the same currency: the strategies are compared by one recovered revenue.");
        errors.AddRange(Segments.SelectMany((segment, i) => segment.Validate().Select(e => $"segments[{i}]: {e}")));
        return errors;
    }
}

public sealed record AmountRange(decimal Min, decimal Max, string Currency = "USD");

/// <summary>An IANA time zone and the share of a segment's customers who live in it.</summary>
public sealed record ZoneShare(string Zone, double Weight);

/// <summary>When a segment's initial failures happen: 24 weights by hour on the UTC clock (a billing run) or the customer's.</summary>
public sealed record FailureHours(string Clock, IReadOnlyList<double> Weights)
{
    public bool IsLocal => Clock == "local";
}

/// <summary>One piece of the recovery curve by whole days since the failure: <see cref="PerDay"/> a day until <see cref="ToDay"/> (null: ever after).</summary>
public sealed record DecayPiece(int? ToDay, double PerDay);

/// <summary>
/// Customers who fail alike. A retry at local time t succeeds with probability
/// min(1, baseSuccess × weekday[t] × hour[t] (paydayHour[t] within a payday window) × (paydayBoost within paydayWindowDays from a
/// payday, else 1) × the recovery curve at the days since the first failure: dailyDecay^days, or the pieces of decay by whole days);
/// besides, the customer attaches a new card on any day with probability fixCardPerDay (fixCardPerDayNotified on the day of an
/// email and the noticeEffectDays − 1 days after), which is charged at once (see <see cref="CardUpdateBehaviour"/>).
/// Also the oracle's model: the probabilities the scheduler would use if it knew them.
/// </summary>
public sealed record PopulationSegment : IRecoveryModel
{
    public double Weight { get; init; } = 1;
    public string DeclineCode { get; init; } = string.Empty;
    public double BaseSuccess { get; init; }
    /// <summary>Format 2: this segment's amounts; the population's when absent.</summary>
    public AmountRange? Amount { get; init; }
    /// <summary>Format 2: where the customers live; all in UTC when empty.</summary>
    public IReadOnlyList<ZoneShare> TimeZones { get; init; } = [];
    /// <summary>Format 2: when the initial failures happen; any hour of the day alike when absent.</summary>
    public FailureHours? FailureHours { get; init; }
    /// <summary>
    /// Days of the month (a day the month lacks means its last day: 31 is the last day of every month), or, in format 2,
    /// "last business day", "first business day", "weekly friday" or "biweekly friday" (every other week from the first
    /// such day of 2024).
    /// </summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(PaydayListConverter))]
    public IReadOnlyList<Payday> Paydays { get; init; } = [];
    public double PaydayBoost { get; init; } = 1;
    /// <summary>How many days, the payday first, the boost lasts.</summary>
    public int PaydayWindowDays { get; init; }
    /// <summary>Seven multipliers, Monday first.</summary>
    public IReadOnlyList<double> Weekday { get; init; } = Enumerable.Repeat(1.0, 7).ToArray();
    /// <summary>Twenty-four multipliers, from 00:00.</summary>
    public IReadOnlyList<double> Hour { get; init; } = Enumerable.Repeat(1.0, 24).ToArray();
    /// <summary>Format 2: the hour multipliers within a payday window, when they differ from <see cref="Hour"/>.</summary>
    public IReadOnlyList<double>? PaydayHour { get; init; }
    public double DailyDecay { get; init; } = 1;
    /// <summary>Format 2: the recovery curve as pieces by whole days since the failure; replaces <see cref="DailyDecay"/>.</summary>
    public IReadOnlyList<DecayPiece>? Decay { get; init; }
    public double FixCardPerDay { get; init; }
    /// <summary>The daily chance of a new card right after an email; <see cref="FixCardPerDay"/> when absent (emails change nothing).</summary>
    public double? FixCardPerDayNotified { get; init; }
    /// <summary>How many days, the email's first, an email keeps the higher chance.</summary>
    public int NoticeEffectDays { get; init; } = 3;

    public bool UsesAttemptNumber => false;

    public CardUpdateBehaviour Cards => new(FixCardPerDay, FixCardPerDayNotified ?? FixCardPerDay, NoticeEffectDays);

    public double Probability(in RecoveryQuery query)
    {
        var local = query.LocalTime;
        var payday = InPaydayWindow(local);
        var hour = payday && PaydayHour is { } paydayHour ? paydayHour : Hour;
        var p = BaseSuccess * WeekdayMultiplier(local) * hour[local.Hour] * (payday ? PaydayBoost : 1) * Curve(query.DaysSinceFirstFailure);
        return Math.Min(1, p);
    }

    public IReadOnlyList<RecoveryFactor> Explain(in RecoveryQuery query) =>
    [
        new(query.LocalTime.DayOfWeek.ToString(), WeekdayMultiplier(query.LocalTime)),
        new(query.LocalTime.ToString("HH:00", CultureInfo.InvariantCulture), Hour[query.LocalTime.Hour]),
        new("a payday window", InPaydayWindow(query.LocalTime) ? PaydayBoost : 1),
    ];

    private double WeekdayMultiplier(DateTime local) => Weekday[((int)local.DayOfWeek + 6) % 7];

    private bool InPaydayWindow(DateTime local)
    {
        var date = DateOnly.FromDateTime(local);
        for (var back = 0; back < PaydayWindowDays; back++)
            for (var i = 0; i < Paydays.Count; i++)
                if (Paydays[i].Falls(date.AddDays(-back))) return true;
        return false;
    }

    private double Curve(double days)
    {
        days = Math.Max(0, days);
        if (Decay is null) return Math.Pow(DailyDecay, days);
        var (whole, multiplier, from) = ((int)days, 1.0, 0);
        for (var i = 0; i < Decay.Count; i++)
        {
            var piece = Decay[i];
            var to = Math.Min(whole, piece.ToDay ?? whole);
            if (to > from) multiplier *= Math.Pow(piece.PerDay, to - from);
            from = Math.Max(from, to);
        }
        return multiplier;
    }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Weight <= 0) errors.Add("weight must be positive.");
        if (string.IsNullOrWhiteSpace(DeclineCode)) errors.Add("declineCode is required.");
        if (BaseSuccess is < 0 or > 1) errors.Add("baseSuccess must be between 0 and 1.");
        if (Amount is not null && (Amount.Min <= 0 || Amount.Max < Amount.Min || Amount.Currency.Length != 3))
            errors.Add("amount needs 0 < min <= max and a three-letter currency.");
        if (TimeZones.Any(z => z.Weight <= 0 || !TimeZoneInfo.TryFindSystemTimeZoneById(z.Zone, out _)))
            errors.Add("timeZones need known IANA names (e.g. Europe/Berlin) with positive weights.");
        if (FailureHours is not null && (FailureHours.Clock is not ("utc" or "local") || FailureHours.Weights.Count != 24
                || FailureHours.Weights.Any(w => w < 0) || FailureHours.Weights.Sum() <= 0))
            errors.Add("failureHours needs clock \"utc\" or \"local\" and 24 weights, none negative, not all 0.");
        if (Paydays.Any(d => !d.IsValid)) errors.Add("paydays are days of the month 1 to 31, \"last business day\", \"first business day\", \"weekly friday\" or \"biweekly friday\".");
        if (PaydayBoost < 0 || PaydayWindowDays < 0) errors.Add("paydayBoost and paydayWindowDays must not be negative.");
        if (Weekday.Count != 7 || Weekday.Any(m => m < 0)) errors.Add("weekday needs 7 multipliers (Monday first), none negative.");
        if (Hour.Count != 24 || Hour.Any(m => m < 0)) errors.Add("hour needs 24 multipliers (from 00:00), none negative.");
        if (PaydayHour is not null && (PaydayHour.Count != 24 || PaydayHour.Any(m => m < 0))) errors.Add("paydayHour needs 24 multipliers (from 00:00), none negative.");
        if (DailyDecay is <= 0 or > 1.5) errors.Add("dailyDecay must be above 0 (1 for no decay).");
        if (Decay is not null && (Decay.Count == 0 || Decay[^1].ToDay is not null || Decay.Take(Decay.Count - 1).Any(p => p.ToDay is null)
                || Decay.Zip(Decay.Skip(1)).Any(p => p.Second.ToDay <= p.First.ToDay) || Decay.Any(p => p.PerDay is <= 0 or > 1.5)))
            errors.Add("decay needs pieces with increasing toDay, the last without one, each perDay above 0.");
        if (FixCardPerDay is < 0 or >= 1) errors.Add("fixCardPerDay must be at least 0 and below 1.");
        if (FixCardPerDayNotified is < 0 or >= 1) errors.Add("fixCardPerDayNotified must be at least 0 and below 1.");
        if (NoticeEffectDays < 1) errors.Add("noticeEffectDays must be at least 1.");
        return errors;
    }
}

/// <summary>A payday rule: a day of the month, the first or last business day, or a weekday every week or every other week.</summary>
public sealed class Payday
{
    private static readonly DateOnly BiweeklyAnchor = new(2024, 1, 1);
    private readonly int? _dayOfMonth;
    private readonly (int Weeks, DayOfWeek Day)? _every;
    // Asked for every slot a simulated retry could take: the rule is read once, not compared at each question.
    private readonly bool _firstBusinessDay;

    public Payday(string rule)
    {
        Rule = rule;
        _firstBusinessDay = rule == "first business day";
        _dayOfMonth = int.TryParse(rule, NumberStyles.None, CultureInfo.InvariantCulture, out var day) ? day : null;
        _every = rule.Split(' ') is [var every, var weekday] && every is "weekly" or "biweekly"
            && Enum.TryParse<DayOfWeek>(weekday, ignoreCase: true, out var parsed) && !int.TryParse(weekday, out _)
                ? (every == "weekly" ? 1 : 2, parsed) : null;
    }

    public string Rule { get; }

    public bool IsValid => _dayOfMonth is >= 1 and <= 31 || Rule is "last business day" or "first business day" || _every is not null;

    public bool Falls(DateOnly date)
    {
        if (_dayOfMonth is { } day) return Math.Min(day, DateTime.DaysInMonth(date.Year, date.Month)) == date.Day;
        if (_every is { } every) return date.DayOfWeek == every.Day && (date.DayNumber - BiweeklyAnchor.DayNumber) / 7 % every.Weeks == 0;
        // The first (last) business day: no business day of the same month before (after) it.
        if (!IsBusinessDay(date)) return false;
        var step = _firstBusinessDay ? -1 : 1;
        for (var n = 1; n <= 3; n++)
        {
            var other = date.AddDays(step * n);
            if (other.Month == date.Month && IsBusinessDay(other)) return false;
        }
        return true;
    }

    private static bool IsBusinessDay(DateOnly date) => date.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);
}

/// <summary>Reads paydays as numbers (format 1) or rule names (format 2).</summary>
public sealed class PaydayListConverter : System.Text.Json.Serialization.JsonConverter<IReadOnlyList<Payday>>
{
    public override IReadOnlyList<Payday> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("paydays must be a list.");
        var paydays = new List<Payday>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            paydays.Add(new Payday(reader.TokenType == JsonTokenType.Number
                ? reader.GetInt32().ToString(CultureInfo.InvariantCulture)
                : reader.GetString()?.Trim().ToLowerInvariant() ?? string.Empty));
        return paydays;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<Payday> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var payday in value) writer.WriteStringValue(payday.Rule);
        writer.WriteEndArray();
    }
}
