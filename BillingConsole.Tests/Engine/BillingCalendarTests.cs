using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Engine;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Engine;

[PureTests]
public sealed class BillingCalendarTests
{
    private static readonly BillingCalendar Utc = new(TimeZoneInfo.Utc);
    private static readonly BillingCalendar NewYork = BillingCalendar.ForZone("America/New_York");
    private static readonly TimeSpan Est = TimeSpan.FromHours(-5);
    private static readonly TimeSpan Edt = TimeSpan.FromHours(-4);

    private static DateTimeOffset Utc9(int year, int month, int day) => new(year, month, day, 9, 0, 0, TimeSpan.Zero);

    /// <summary>The ends of <paramref name="count"/> consecutive periods, each starting where the previous one ended.</summary>
    private static List<DateTimeOffset> Ends(BillingCalendar calendar, DateTimeOffset start, BillingInterval interval, int anchorDay, int count)
    {
        var ends = new List<DateTimeOffset>();
        for (var i = 0; i < count; i++) ends.Add(start = calendar.NextPeriodEnd(start, interval, anchorDay));
        return ends;
    }

    [Theory]
    [InlineData(2028, 29)]
    [InlineData(2027, 28)]
    public void A_31st_anchor_clamps_to_the_end_of_February_and_comes_back(int year, int lastOfFebruary) =>
        Assert.Equal(
            [Utc9(year, 2, lastOfFebruary), Utc9(year, 3, 31), Utc9(year, 4, 30), Utc9(year, 5, 31)],
            Ends(Utc, Utc9(year, 1, 31), BillingInterval.Month, 31, 4));

    [Fact]
    public void December_rolls_into_the_next_year() =>
        Assert.Equal(Utc9(2028, 1, 15), Utc.NextPeriodEnd(Utc9(2027, 12, 15), BillingInterval.Month, 15));

    [Fact]
    public void A_yearly_February_29_anchor_falls_on_the_28th_until_the_next_leap_year() =>
        Assert.Equal(
            [Utc9(2029, 2, 28), Utc9(2030, 2, 28), Utc9(2031, 2, 28), Utc9(2032, 2, 29)],
            Ends(Utc, Utc9(2028, 2, 29), BillingInterval.Year, 29, 4));

    [Fact]
    public void Monthly_periods_keep_the_local_time_across_both_New_York_DST_changes()
    {
        // 09:00 local every 10th: 14:00 UTC in winter, 13:00 UTC in summer (DST 14 Mar – 7 Nov 2027).
        var ends = Ends(NewYork, new DateTimeOffset(2027, 2, 10, 9, 0, 0, Est), BillingInterval.Month, 10, 9);

        Assert.Equal(new DateTimeOffset(2027, 3, 10, 9, 0, 0, Est), ends[0]);
        Assert.Equal(new DateTimeOffset(2027, 4, 10, 9, 0, 0, Edt), ends[1]);
        Assert.Equal(new DateTimeOffset(2027, 10, 10, 9, 0, 0, Edt), ends[7]);
        Assert.Equal(new DateTimeOffset(2027, 11, 10, 9, 0, 0, Est), ends[8]);
        Assert.All(ends, end => Assert.Equal(TimeSpan.Zero, end.Offset));
        // The period that contains the change is an hour short of 31 days.
        Assert.Equal(TimeSpan.FromDays(31) - TimeSpan.FromHours(1), ends[1] - ends[0]);
    }

    [Fact]
    public void A_local_time_skipped_by_DST_moves_forward_by_the_gap() =>
        Assert.Equal(new DateTimeOffset(2027, 3, 14, 3, 30, 0, Edt),
            NewYork.NextPeriodEnd(new DateTimeOffset(2027, 2, 14, 2, 30, 0, Est), BillingInterval.Month, 14));

    [Fact]
    public void A_local_time_that_occurs_twice_resolves_to_the_first() =>
        Assert.Equal(new DateTimeOffset(2027, 11, 7, 1, 30, 0, Edt),
            NewYork.NextPeriodEnd(new DateTimeOffset(2027, 10, 7, 1, 30, 0, Edt), BillingInterval.Month, 7));

    [Fact]
    public void A_trial_counts_local_days_and_keeps_the_local_time()
    {
        var start = new DateTimeOffset(2027, 3, 1, 9, 0, 0, Est);
        Assert.Equal(new DateTimeOffset(2027, 3, 15, 9, 0, 0, Edt), NewYork.TrialEnd(start, 14));
        Assert.Null(NewYork.TrialEnd(start, 0));
        Assert.Throws<DomainRuleException>(() => NewYork.TrialEnd(start, -1));
    }

    [Fact]
    public void The_anchor_day_is_read_in_the_billing_time_zone()
    {
        // 1 Mar 03:00 UTC is still 28 Feb in New York.
        var instant = new DateTimeOffset(2027, 3, 1, 3, 0, 0, TimeSpan.Zero);
        Assert.Equal((1, 28), (Utc.AnchorDayOf(instant), NewYork.AnchorDayOf(instant)));
        Assert.Equal("28 Feb 2027", NewYork.FormatDate(instant));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(32)]
    public void Anchor_days_outside_a_month_are_refused(int anchorDay) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Utc.NextPeriodEnd(Utc9(2027, 1, 1), BillingInterval.Month, anchorDay));
}
