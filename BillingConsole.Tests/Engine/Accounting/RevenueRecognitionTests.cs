using BillingConsole.Engine.Accounting;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Engine.Accounting;

/// <summary>How an invoice's revenue is recognised over its lines' service periods, month by month in the billing time zone.</summary>
[PureTests]
public sealed class RevenueRecognitionTests
{
    private static DateTimeOffset Utc(int year, int month, int day) => new(year, month, day, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_annual_line_is_recognised_by_the_days_of_each_month_and_the_months_add_up_to_it()
    {
        var line = new RecognizedLine(1200m, Utc(2027, 1, 15), Utc(2028, 1, 15));

        var schedule = RevenueRecognition.Schedule([line], Utc(2027, 1, 15), TimeZoneInfo.Utc);

        Assert.Equal(new DateOnly(2027, 1, 1), schedule[0].Month);
        Assert.Equal(new DateOnly(2028, 1, 1), schedule[^1].Month);
        Assert.Equal(13, schedule.Count);
        Assert.Equal(Math.Round(1200m * 17 / 365, 4), schedule[0].Amount);
        Assert.Equal(Math.Round(1200m * (17 + 28) / 365, 4) - Math.Round(1200m * 17 / 365, 4), schedule[1].Amount);
        Assert.Equal(1200m, schedule.Sum(m => m.Amount));
    }

    [Fact]
    public void What_a_period_has_already_run_is_recognised_at_issue_and_a_line_without_a_period_at_once()
    {
        var arrears = new RecognizedLine(30m, Utc(2027, 2, 1), Utc(2027, 3, 1));
        var oneOff = new RecognizedLine(15m, Utc(2027, 4, 10), Utc(2027, 4, 10));
        var credit = new RecognizedLine(-10m, Utc(2027, 4, 10), Utc(2027, 5, 10));

        var schedule = RevenueRecognition.Schedule([arrears, oneOff, credit], Utc(2027, 4, 10), TimeZoneInfo.Utc);

        Assert.Equal([new DateOnly(2027, 4, 1), new DateOnly(2027, 5, 1)], schedule.Select(m => m.Month));
        Assert.Equal(30m + 15m + Math.Round(-10m * 21 / 30, 4), schedule[0].Amount);
        Assert.Equal(35m, schedule.Sum(m => m.Amount));
        Assert.Equal(0m, RevenueRecognition.RecognizedBy(arrears, Utc(2027, 1, 1)));
        Assert.Equal(15m, RevenueRecognition.RecognizedBy(arrears, Utc(2027, 2, 15)));
    }

    [Fact]
    public void Months_are_the_billing_time_zones_months()
    {
        var tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
        // Issued at 20:00 UTC on 31 March: already 1 April in Tokyo, so the first month is April.
        var line = new RecognizedLine(30m, new DateTimeOffset(2027, 3, 31, 15, 0, 0, TimeSpan.Zero), new DateTimeOffset(2027, 4, 30, 15, 0, 0, TimeSpan.Zero));

        var schedule = RevenueRecognition.Schedule([line], new DateTimeOffset(2027, 3, 31, 20, 0, 0, TimeSpan.Zero), tokyo);

        Assert.Equal([new DateOnly(2027, 4, 1)], schedule.Select(m => m.Month));
        Assert.Equal(30m, schedule[0].Amount);
    }
}
