namespace BillingConsole.Engine.Accounting;

/// <summary>One invoice line's revenue and the service period it pays for.</summary>
public sealed record RecognizedLine(decimal Amount, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd);

/// <summary>The revenue of an invoice recognised in one month (the month's first day, in the billing time zone).</summary>
public sealed record RecognitionMonth(DateOnly Month, decimal Amount);

/// <summary>
/// Revenue recognised over the service period (docs/analytics.md, "Deferred revenue"): each invoice line evenly over its own
/// period, to the second, from the moment the invoice is issued (what its period has already run is recognised at issue);
/// a line without a period is recognised at issue. The rest is deferred. SQL that sums it for many invoices
/// (<c>RevenueRecognitionQueries</c>) computes the same expression, rounded the same way.
/// </summary>
public static class RevenueRecognition
{
    /// <summary>The part of <paramref name="line"/> recognised by <paramref name="asOf"/> (the invoice issued before it), rounded to 4 places.</summary>
    public static decimal RecognizedBy(RecognizedLine line, DateTimeOffset asOf)
    {
        var span = (line.PeriodEnd - line.PeriodStart).Ticks;
        var share = span <= 0 ? 1m : Math.Clamp((decimal)(asOf - line.PeriodStart).Ticks / span, 0m, 1m);
        return Math.Round(line.Amount * share, 4, MidpointRounding.AwayFromZero);
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
