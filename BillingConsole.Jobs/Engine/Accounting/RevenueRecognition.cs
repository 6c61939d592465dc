namespace BillingConsole.Engine.Accounting;

/// <summary>One invoice line's revenue and the service period it pays for.</summary>
public sealed record RecognizedLine(decimal Amount, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd);

/// <summary>The revenue of an invoice recognised in one month (the month's first day, in the billing time zone).</summary>
public sealed record RecognitionMonth(DateOnly Month, decimal Amount);

/// <summary>
/// Revenue recognised over the service period (docs/analytics.md, "Deferred revenue"): each invoice line evenly over its own
/// period, to the second, from the moment the invoice is issued (what its period has already run is recognised at issue);
/// a line without a period is recognised at issue. The rest is deferred. SQL that sums it for many invoices
/// (<c>RevenueRecognitionQueries</c>, <c>RevenueRecognitionRecorder</c>) computes the same share and rounds the sum.
/// </summary>
public static class RevenueRecognition
{
    /// <summary>The part of <paramref name="line"/> recognised by <paramref name="asOf"/> (the invoice issued before it), rounded to 4 places.</summary>
    public static decimal RecognizedBy(RecognizedLine line, DateTimeOffset asOf) =>
        Math.Round(ExactlyRecognizedBy(line, asOf), 4, MidpointRounding.AwayFromZero);

    /// <summary>
    /// A sum of <see cref="ExactlyRecognizedBy"/> to the cent. The sum is first rounded to <see cref="ArithmeticPlaces"/>
    /// places, which drops the error of the arithmetic (decimal here, numeric in SQL, both far below it), so that a sum that
    /// is exactly half a cent rounds the same way in both.
    /// </summary>
    public static decimal ToCent(decimal sum) =>
        Math.Round(Math.Round(sum, ArithmeticPlaces, MidpointRounding.AwayFromZero), 2, MidpointRounding.AwayFromZero);

    public const int ArithmeticPlaces = 12;

    /// <summary>
    /// The same, unrounded: a period's figures sum these over many lines and round the sum to the cent
    /// (<c>RevenueRecognitionQueries</c>), so that no line's rounding adds up.
    /// </summary>
    public static decimal ExactlyRecognizedBy(RecognizedLine line, DateTimeOffset asOf)
    {
        var span = (line.PeriodEnd - line.PeriodStart).Ticks;
        return span <= 0 ? line.Amount : line.Amount * Math.Clamp((decimal)(asOf - line.PeriodStart).Ticks / span, 0m, 1m);
    }

    /// <summary>
    /// Month by month, what an invoice issued at <paramref name="issuedAt"/> recognises: the month of issue takes what has
    /// run by its end, each later month what runs in it, until every line is whole. The months add up to the invoice's revenue.
    /// </summary>
    public static IReadOnlyList<RecognitionMonth> Schedule(IReadOnlyCollection<RecognizedLine> lines, DateTimeOffset issuedAt, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(issuedAt, zone);
        var month = new DateOnly(local.Year, local.Month, 1);
        var last = lines.Count == 0 ? issuedAt : lines.Max(l => l.PeriodEnd);
        var months = new List<RecognitionMonth>();
        var before = 0m;
        while (true)
        {
            var end = StartOf(month.AddMonths(1), zone);
            var by = lines.Sum(l => RecognizedBy(l, end));
            months.Add(new RecognitionMonth(month, by - before));
            before = by;
            if (end >= last) return months;
            month = month.AddMonths(1);
        }
    }

    /// <summary>The instant a day starts in <paramref name="zone"/> (a midnight a clock change skips starts at the first instant that exists).</summary>
    public static DateTimeOffset StartOf(DateOnly day, TimeZoneInfo zone)
    {
        var local = day.ToDateTime(TimeOnly.MinValue);
        while (zone.IsInvalidTime(local)) local = local.AddMinutes(30);
        return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
    }
}
