using System.Globalization;

namespace BillingConsole.Engine.Dunning;

/// <summary>One retry from the payment-attempt history.</summary>
/// <param name="DeclineCode">The decline of the failure this retry follows.</param>
/// <param name="AttemptNumber">1 for the first dunning retry.</param>
/// <param name="TimeZone">The customer's billing time zone; UTC when null.</param>
public sealed record AttemptObservation(
    string DeclineCode,
    int AttemptNumber,
    DateTimeOffset FirstFailureAt,
    DateTimeOffset AttemptedAt,
    bool Succeeded,
    TimeZoneInfo? TimeZone = null);

/// <summary>
/// Retries counted by every level at once: what
/// <c>GROUP BY decline_code, attempt_number, whole days since the first failure, local weekday, local hour,
/// local day of month, is last day of month</c> over the payment-attempt history returns.
/// </summary>
/// <remarks>
/// Counts per single factor would not do: in a history made by a fixed schedule the retry number and the days since the
/// failure move together, and estimating each from its own totals would count the same decay twice.
/// </remarks>
public sealed record AttemptAggregate(
    string DeclineCode,
    int AttemptNumber,
    int DaysSinceFirstFailure,
    DayOfWeek Weekday,
    int Hour,
    int DayOfMonth,
    bool IsLastDayOfMonth,
    long Attempts,
    long Successes);

/// <summary>
/// The recovery model learned from the project's own payment-attempt history:
/// P(success) = base(decline code) × weekday × hour × day of month × retry number × e^(−decay × days since the failure),
/// each multiplier per decline code.
/// </summary>
/// <remarks>
/// <para>Every figure is a posterior mean that starts at <see cref="RecoveryPriors"/>: a decline code's multiplier is pulled
/// toward the multiplier pooled over all codes, which is pulled toward the prior (Gamma–Poisson, with pseudo-counts in
/// expected successes); the base rate is smoothed with pseudo-attempts; the decay has a normal prior. A level seen a few
/// times barely moves; one seen thousands of times follows the data.</para>
/// <para>The factors are fitted together (backfitting on the multiplicative model), so a level's multiplier is what it adds
/// beyond the others. Multipliers are scaled to average 1 over the history, so "1.4×" reads as "better than average".</para>
/// <para>The decay is one rate rather than a level per day, because a fixed schedule only ever retries on its own days and
/// the days between would otherwise keep their priors, ragged against the learned ones.</para>
/// <para><see cref="Probability"/> is what the scheduler plans with: the estimate raised, level by level, by
/// <see cref="RecoveryPriors.Exploration"/> standard deviations of the level's multiplier, relative to the level of its table
/// seen most (an upper-confidence rule). A level's standard deviation is 1 / √(its retries × the decline's prior base rate +
/// the pseudo-count): it only narrows as retries come in, and a level never retried keeps the prior's. So a history that
/// retried only at the billing run's hour leaves the other hours looking a little better than their estimates until the
/// scheduler has tried them. <see cref="Mean"/> is the estimate alone, for replaying outcomes.</para>
/// </remarks>
public sealed class RecoveryStatistics : IRecoveryModel
{
    private const int Sweeps = 12;
    // Positions in _factors.
    private const int Weekday = 0, Hour = 1, DayOfMonth = 2, Attempt = 3;
    private const double MaxProbability = 0.95;

    private readonly RecoveryPriors _priors;
    private readonly Dictionary<string, int> _codes;
    // Index 0 is the table pooled over every decline code, used for codes without a table of their own.
    private readonly double[] _base;
    private readonly double[] _decay;
    private readonly LevelFactor[] _factors;
    private IRecoveryModel? _mean;

    private RecoveryStatistics(RecoveryPriors priors, IReadOnlyList<string> codes)
    {
        _priors = priors;
        _codes = codes.Select((code, i) => (code, i)).ToDictionary(c => c.code, c => c.i + 1, StringComparer.Ordinal);
        var tables = codes.Count + 1;
        _base = [priors.OtherBaseRate, .. codes.Select(priors.BaseRate)];
        _decay = Enumerable.Repeat(priors.DecayPerDay, tables).ToArray();
        _factors =
        [
            new LevelFactor(priors.Weekday, tables, WeekdayName),
            new LevelFactor(priors.Hour, tables, HourName),
            new LevelFactor(priors.DayOfMonth, tables, DayOfMonthName),
            new LevelFactor(priors.AttemptNumber, tables, level => $"retry {level + 1}"),
        ];
        DeclineCodes = codes;
    }

    /// <summary>The model of a new install: priors only.</summary>
    public static RecoveryStatistics Priors { get; } = FromAggregates([]);

    /// <summary>Decline codes with a table of their own (from the priors or the history).</summary>
    public IReadOnlyList<string> DeclineCodes { get; }

    /// <summary>How many retries the model learned from.</summary>
    public long ObservedAttempts { get; private set; }

    public static RecoveryStatistics FromObservations(IEnumerable<AttemptObservation> observations, RecoveryPriors? priors = null)
    {
        var counts = new Dictionary<(string Code, int Attempt, int Days, DayOfWeek Weekday, int Hour, int Day, bool Last), (long Attempts, long Successes)>();
        foreach (var o in observations)
        {
            var local = TimeZoneInfo.ConvertTime(o.AttemptedAt, o.TimeZone ?? TimeZoneInfo.Utc).DateTime;
            var key = (o.DeclineCode, o.AttemptNumber, RecoveryLevels.Days((o.AttemptedAt - o.FirstFailureAt).TotalDays), local.DayOfWeek,
                local.Hour, local.Day, local.Day == DateTime.DaysInMonth(local.Year, local.Month));
            var (attempts, successes) = counts.GetValueOrDefault(key);
            counts[key] = (attempts + 1, successes + (o.Succeeded ? 1 : 0));
        }
        return FromAggregates(counts.Select(c => new AttemptAggregate(c.Key.Code, c.Key.Attempt, c.Key.Days, c.Key.Weekday, c.Key.Hour,
            c.Key.Day, c.Key.Last, c.Value.Attempts, c.Value.Successes)), priors);
    }

    public static RecoveryStatistics FromAggregates(IEnumerable<AttemptAggregate> aggregates, RecoveryPriors? priors = null)
    {
        priors ??= RecoveryPriors.Default;
        var rows = aggregates.Where(a => a.Attempts > 0).ToList();
        var codes = priors.BaseRates.Keys.Concat(rows.Select(r => r.DeclineCode)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var model = new RecoveryStatistics(priors, codes);
        model.Fit(new Cells(rows, model._codes));
        return model;
    }

    /// <summary>The chance of success on an average slot the day the case opened.</summary>
    public double BaseRate(string declineCode) => _base[Table(declineCode)];

    /// <summary>The fitted loss of recovery chance per day since the failure, as a rate.</summary>
    public double DecayPerDay(string declineCode) => _decay[Table(declineCode)];

    /// <summary>The chance the scheduler plans with: the estimate, raised for rarely tried levels (see the remarks).</summary>
    public double Probability(in RecoveryQuery query) => Probability(query, explore: true);

    /// <summary>The estimates alone, without the exploration bonus: how a retry is expected to fare.</summary>
    public IRecoveryModel Mean => _mean ??= new MeanView(this);

    /// <summary>A band of one standard deviation around the hour's multiplier for a decline code (see the remarks).</summary>
    public (double Low, double High) HourInterval(string declineCode, int hour)
    {
        var table = Table(declineCode);
        var multiplier = _factors[Hour].Values[table][hour];
        var deviation = Deviation(table, _factors[Hour].Attempts[table][hour]);
        return (multiplier * Math.Max(0, 1 - deviation), multiplier * (1 + deviation));
    }

    public void Probabilities(in RecoveryQuery query, Span<double> byAttempt) => Probabilities(query, byAttempt, explore: true);

    private double Probability(in RecoveryQuery query, bool explore)
    {
        Span<double> chance = stackalloc double[1];
        Probabilities(query, chance, explore);
        return chance[0];
    }

    private void Probabilities(in RecoveryQuery query, Span<double> byAttempt, bool explore)
    {
        // Every factor but the retry number's is the slot's own, the same for each retry number.
        var table = Table(query.DeclineCode);
        var local = query.LocalTime;
        var slot = _base[table] * Math.Exp(-_decay[table] * Math.Max(0, query.DaysSinceFirstFailure))
            * Multiplier(Weekday, table, (int)local.DayOfWeek, explore) * Multiplier(Hour, table, local.Hour, explore)
            * Multiplier(DayOfMonth, table, RecoveryLevels.DayOfMonth(local), explore);
        for (var k = 0; k < byAttempt.Length; k++)
            byAttempt[k] = Math.Min(slot * Multiplier(Attempt, table, RecoveryLevels.Attempt(query.AttemptNumber + k), explore), MaxProbability);
    }

    private double Multiplier(int factor, int table, int level, bool explore) =>
        _factors[factor].Values[table][level] * (explore ? _factors[factor].Bonus[table][level] : 1);

    private double Deviation(int table, double attempts)
    {
        var (baseRate, pseudo) = table == 0
            ? (_priors.OtherBaseRate, _priors.LevelPseudoSuccesses)
            : (_priors.BaseRate(DeclineCodes[table - 1]), _priors.CodeLevelPseudoSuccesses);
        return 1 / Math.Sqrt(attempts * baseRate + pseudo);
    }

    /// <summary>Each level's upper-confidence factor against the level of its table seen most, which keeps 1.</summary>
    private void Explore()
    {
        foreach (var factor in _factors)
            for (var table = 0; table < _base.Length; table++)
            {
                var attempts = factor.Attempts[table];
                var least = 1 + _priors.Exploration * Deviation(table, attempts.Max());
                for (var level = 0; level < attempts.Length; level++)
                    factor.Bonus[table][level] = (1 + _priors.Exploration * Deviation(table, attempts[level])) / least;
            }
    }

    private sealed class MeanView(RecoveryStatistics model) : IRecoveryModel
    {
        public double Probability(in RecoveryQuery query) => model.Probability(query, explore: false);

        public void Probabilities(in RecoveryQuery query, Span<double> byAttempt) => model.Probabilities(query, byAttempt, explore: false);

        public IReadOnlyList<RecoveryFactor> Explain(in RecoveryQuery query) => model.Explain(query);
    }

    public IReadOnlyList<RecoveryFactor> Explain(in RecoveryQuery query)
    {
        var table = Table(query.DeclineCode);
        var days = Math.Max(0, query.DaysSinceFirstFailure);
        var copy = query;
        var levels = Enumerable.Range(0, _factors.Length).Select(f => LevelOf(f, copy)).ToArray();
        return
        [
            .. _factors.Select((factor, f) => new RecoveryFactor(factor.Name(levels[f]), factor.Values[table][levels[f]])),
            new RecoveryFactor(string.Create(CultureInfo.InvariantCulture, $"{days:0.#} days after the failure"), Math.Exp(-_decay[table] * days)),
        ];
    }

    private int Table(string declineCode) => _codes.TryGetValue(declineCode, out var table) ? table : 0;

    private static int LevelOf(int f, in RecoveryQuery query) => f switch
    {
        Weekday => (int)query.LocalTime.DayOfWeek,
        Hour => query.LocalTime.Hour,
        DayOfMonth => RecoveryLevels.DayOfMonth(query.LocalTime),
        _ => RecoveryLevels.Attempt(query.AttemptNumber),
    };

    private void Fit(Cells cells)
    {
        ObservedAttempts = (long)cells.Attempts.Sum();
        for (var i = 0; i < cells.Count; i++)
            for (var f = 0; f < _factors.Length; f++)
            {
                _factors[f].Attempts[cells.Table[i]][cells.Levels[f][i]] += cells.Attempts[i];
                _factors[f].Attempts[0][cells.Levels[f][i]] += cells.Attempts[i];
            }
        Explore();
        if (cells.Count == 0) return;
        var predicted = new double[cells.Count];
        for (var sweep = 0; sweep < Sweeps; sweep++)
        {
            Predict(cells, predicted);
            FitBaseRates(cells, predicted);
            for (var f = 0; f < _factors.Length; f++)
            {
                Predict(cells, predicted);
                FitFactor(cells, predicted, f);
            }
            Predict(cells, predicted);
            FitDecay(cells, predicted);
        }
    }

    private void Predict(Cells cells, double[] predicted)
    {
        for (var i = 0; i < cells.Count; i++)
        {
            var table = cells.Table[i];
            var p = _base[table] * Math.Exp(-_decay[table] * cells.Days[i]);
            for (var f = 0; f < _factors.Length; f++) p *= _factors[f].Values[table][cells.Levels[f][i]];
            predicted[i] = p;
        }
    }

    private void FitBaseRates(Cells cells, double[] predicted)
    {
        var successes = new double[_base.Length];
        var exposure = new double[_base.Length];
        for (var i = 0; i < cells.Count; i++)
        {
            successes[cells.Table[i]] += cells.Successes[i];
            exposure[cells.Table[i]] += cells.Attempts[i] * predicted[i] / _base[cells.Table[i]];
        }
        var k = _priors.BasePseudoAttempts;
        for (var table = 1; table < _base.Length; table++)
        {
            var prior = _priors.BaseRate(DeclineCodes[table - 1]);
            _base[table] = Math.Clamp((successes[table] + k * prior) / (exposure[table] + k), 0.001, MaxProbability);
        }
    }

    private void FitFactor(Cells cells, double[] predicted, int f)
    {
        var factor = _factors[f];
        var levels = factor.Prior.Count;
        var successes = new double[_base.Length, levels];
        var exposure = new double[_base.Length, levels];
        for (var i = 0; i < cells.Count; i++)
        {
            var (table, level) = (cells.Table[i], cells.Levels[f][i]);
            successes[table, level] += cells.Successes[i];
            exposure[table, level] += cells.Attempts[i] * predicted[i] / factor.Values[table][level];
        }
        for (var level = 0; level < levels; level++)
            for (var table = 1; table < _base.Length; table++)
            {
                successes[0, level] += successes[table, level];
                exposure[0, level] += exposure[table, level];
            }

        var pooled = factor.Values[0];
        for (var level = 0; level < levels; level++)
            pooled[level] = Shrink(successes[0, level], exposure[0, level], factor.Prior[level], _priors.LevelPseudoSuccesses);
        Normalise(pooled, exposure, 0, _priors.LevelPseudoSuccesses);
        for (var table = 1; table < _base.Length; table++)
        {
            var values = factor.Values[table];
            for (var level = 0; level < levels; level++)
                values[level] = Shrink(successes[table, level], exposure[table, level], pooled[level], _priors.CodeLevelPseudoSuccesses);
            _base[table] = Math.Min(_base[table] * Normalise(values, exposure, table, _priors.CodeLevelPseudoSuccesses), MaxProbability);
        }
    }

    private static double Shrink(double successes, double exposure, double prior, double pseudo) =>
        Math.Clamp((successes + pseudo * prior) / (exposure + pseudo), 0.05, 20);

    /// <summary>Scales a table to average 1, weighting each level by its exposure plus its share of the pseudo-count; returns the scale taken out.</summary>
    private static double Normalise(double[] values, double[,] exposure, int table, double pseudo)
    {
        double weighted = 0, weights = 0;
        for (var level = 0; level < values.Length; level++)
        {
            var weight = exposure[table, level] + pseudo / values.Length;
            weighted += weight * values[level];
            weights += weight;
        }
        var mean = weighted / weights;
        for (var level = 0; level < values.Length; level++) values[level] /= mean;
        return mean;
    }

    /// <summary>Maximum a posteriori decay rates (Poisson likelihood, normal prior) by a few Newton steps: pooled first, then per code around the pooled one.</summary>
    private void FitDecay(Cells cells, double[] predicted)
    {
        var withoutDecay = new double[cells.Count];
        for (var i = 0; i < cells.Count; i++) withoutDecay[i] = predicted[i] * Math.Exp(_decay[cells.Table[i]] * cells.Days[i]);
        _decay[0] = Newton(cells, withoutDecay, _ => true, _priors.DecayPerDay, _priors.DecaySpread, _decay[0]);
        for (var table = 1; table < _base.Length; table++)
            _decay[table] = Newton(cells, withoutDecay, i => cells.Table[i] == table, _decay[0], _priors.CodeDecaySpread, _decay[table]);
    }

    private static double Newton(Cells cells, double[] withoutDecay, Func<int, bool> include, double prior, double spread, double start)
    {
        var precision = 1 / (spread * spread);
        var rate = start;
        for (var step = 0; step < 3; step++)
        {
            double gradient = -precision * (rate - prior), curvature = -precision;
            for (var i = 0; i < cells.Count; i++)
            {
                if (!include(i)) continue;
                var x = cells.Days[i];
                var expected = cells.Attempts[i] * withoutDecay[i] * Math.Exp(-rate * x);
                gradient += expected * x - cells.Successes[i] * x;
                curvature -= expected * x * x;
            }
            rate = Math.Clamp(rate - gradient / curvature, -0.05, 0.5);
        }
        return rate;
    }

    private static string WeekdayName(int level) => ((DayOfWeek)level).ToString();

    private static string HourName(int level) => $"{level:00}:00–{(level + 1) % 24:00}:00";

    private static string DayOfMonthName(int level) => level switch
    {
        RecoveryLevels.LastDayOfMonth => "the last day of the month",
        0 or 1 or 2 => "the payday window after the 1st",
        14 or 15 or 16 => "the payday window after the 15th",
        _ => $"the {Ordinal(level + 1)}",
    };

    private static string Ordinal(int day) => day + (day % 10 == 1 && day != 11 ? "st" : day % 10 == 2 && day != 12 ? "nd" : day % 10 == 3 && day != 13 ? "rd" : "th");

    /// <summary>One categorical multiplier: the prior, and a table per decline code (index 0 pooled).</summary>
    private sealed class LevelFactor(IReadOnlyList<double> prior, int tables, Func<int, string> name)
    {
        public IReadOnlyList<double> Prior { get; } = prior;
        public double[][] Values { get; } = Enumerable.Range(0, tables).Select(_ => prior.ToArray()).ToArray();
        /// <summary>Retries seen at each level, per table.</summary>
        public double[][] Attempts { get; } = Enumerable.Range(0, tables).Select(_ => new double[prior.Count]).ToArray();
        /// <summary>The exploration factor of each level, per table (see <see cref="Explore"/>).</summary>
        public double[][] Bonus { get; } = Enumerable.Range(0, tables).Select(_ => Enumerable.Repeat(1.0, prior.Count).ToArray()).ToArray();
        public Func<int, string> Name { get; } = name;
    }

    /// <summary>The aggregates as columns, decline codes resolved to tables and days taken at the middle of the day counted.</summary>
    private sealed class Cells
    {
        public Cells(IReadOnlyList<AttemptAggregate> rows, IReadOnlyDictionary<string, int> codes)
        {
            Count = rows.Count;
            Table = rows.Select(r => codes[r.DeclineCode]).ToArray();
            Days = rows.Select(r => Math.Clamp(r.DaysSinceFirstFailure, 0, RecoveryLevels.MaxDays) + 0.5).ToArray();
            Attempts = rows.Select(r => (double)r.Attempts).ToArray();
            Successes = rows.Select(r => (double)Math.Min(r.Successes, r.Attempts)).ToArray();
            Levels =
            [
                rows.Select(r => (int)r.Weekday).ToArray(),
                rows.Select(r => Math.Clamp(r.Hour, 0, RecoveryLevels.Hours - 1)).ToArray(),
                rows.Select(r => RecoveryLevels.DayOfMonth(r.DayOfMonth, r.IsLastDayOfMonth)).ToArray(),
                rows.Select(r => RecoveryLevels.Attempt(r.AttemptNumber)).ToArray(),
            ];
        }

        public int Count { get; }
        public int[] Table { get; }
        public double[] Days { get; }
        public double[] Attempts { get; }
        public double[] Successes { get; }
        public int[][] Levels { get; }
    }
}
