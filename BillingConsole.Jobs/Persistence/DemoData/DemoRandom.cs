using System.Numerics;

namespace BillingConsole.Persistence.DemoData;

/// <summary>
/// One customer's own random source, so a customer's history does not depend on who else was generated. It is xoshiro256**
/// (the generator behind an unseeded <see cref="Random"/>) started from the 64-bit pair (seed, customer index): a seeded
/// <see cref="Random"/> has only 2^31 seeds, and a million customers would then share streams and duplicate ids.
/// </summary>
internal sealed class DemoRandom
{
    private static readonly double[] HourWeights =
        [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.4, 3.2, 3.4, 3.0, 2.4, 2.8, 3.0, 2.8, 2.4, 1.8, 1.2, 0.9, 0.8, 0.6, 0.4, 0.3];

    private static readonly double HourWeightTotal = HourWeights.Sum();

    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public DemoRandom(int seed, int index)
    {
        var state = ((ulong)(uint)seed << 32) | (uint)index;
        _s0 = SplitMix(ref state);
        _s1 = SplitMix(ref state);
        _s2 = SplitMix(ref state);
        _s3 = SplitMix(ref state);
    }

    private static ulong SplitMix(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private ulong NextBits()
    {
        var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    public double Next() => (NextBits() >> 11) * (1.0 / (1UL << 53));

    public int Next(int maxExclusive) => (int)(((NextBits() >> 32) * (ulong)maxExclusive) >> 32);

    public int Next(int minInclusive, int maxExclusive) => minInclusive + Next(maxExclusive - minInclusive);

    public bool Chance(double probability) => Next() < probability;

    public double Between(double min, double max) => min + (max - min) * Next();

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    public int PickWeighted(IReadOnlyList<int> weights)
    {
        var total = 0;
        foreach (var weight in weights) total += weight;
        var roll = Next(total);
        for (var i = 0; i < weights.Count; i++)
        {
            roll -= weights[i];
            if (roll < 0) return i;
        }
        return weights.Count - 1;
    }

    public int PickWeighted(IReadOnlyList<double> weights, double total)
    {
        var roll = Next() * total;
        for (var i = 0; i < weights.Count; i++)
        {
            roll -= weights[i];
            if (roll < 0) return i;
        }
        return weights.Count - 1;
    }

    /// <summary>A time of day on <paramref name="day"/> when people are mostly at work.</summary>
    public DateTime TimeOfDay(DateTime day) =>
        day.Date.AddHours(PickWeighted(HourWeights, HourWeightTotal)).AddSeconds(Next(3600));

    /// <summary>A plausible instant strictly between two instants, at a working hour when the span allows.</summary>
    public DateTime Within(DateTime from, DateTime to)
    {
        var raw = from + (to - from) * Between(0.02, 0.98);
        var atWork = TimeOfDay(raw);
        return atWork > from && atWork < to ? atWork : raw;
    }

    public TimeSpan Seconds(double min, double max) => TimeSpan.FromSeconds(Between(min, max));

    /// <summary>
    /// Lower-case letters and digits, every fourth a letter: a gateway-style token that can never contain a run of digits
    /// long enough to look like a card number.
    /// </summary>
    public string Token(int length)
    {
        const string letters = "abcdefghijklmnopqrstuvwxyz";
        const string alphanumerics = "0123456789abcdefghijklmnopqrstuvwxyz";
        Span<char> token = stackalloc char[length];
        for (var i = 0; i < length; i++)
            token[i] = i % 4 == 3 ? letters[Next(letters.Length)] : alphanumerics[Next(alphanumerics.Length)];
        return new string(token);
    }

    public string Digits(int length)
    {
        Span<char> digits = stackalloc char[length];
        for (var i = 0; i < length; i++) digits[i] = (char)('0' + Next(10));
        return new string(digits);
    }
}
