using System.Globalization;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;

namespace BillingConsole.Engine;

/// <summary>
/// Billing periods as the customer reads them: on local dates in the configured billing time zone, at the same
/// local time of day, stored and returned in UTC.
/// </summary>
/// <remarks>
/// A monthly period keeps its anchor day of month, clamped to the month's last day (anchor 31: Jan 31 → Feb 28/29 → Mar 31).
/// A yearly period keeps month and day (anchor Feb 29 → Feb 28 in a non-leap year → Feb 29 again in the next leap year).
/// A local time that a DST change skips moves forward by the gap (02:30 → 03:30); one that occurs twice resolves to the
/// earlier instant. Since the next period is computed from the previous end, a start moved by a gap keeps the moved time.
/// </remarks>
public sealed class BillingCalendar
{
    private static readonly CultureInfo DateCulture = CultureInfo.InvariantCulture;

    public BillingCalendar(TimeZoneInfo timeZone) => TimeZone = timeZone ?? throw new ArgumentNullException(nameof(timeZone));

    public static BillingCalendar ForZone(string timeZoneId) => new(TimeZoneInfo.FindSystemTimeZoneById(timeZoneId));

    public TimeZoneInfo TimeZone { get; }

    /// <summary>The day of month, in the billing time zone, that periods started at <paramref name="anchor"/> keep.</summary>
    public int AnchorDayOf(DateTimeOffset anchor) => ToLocal(anchor).Day;

    public DateOnly LocalDate(DateTimeOffset instant) => DateOnly.FromDateTime(ToLocal(instant));

    /// <summary>"16 Jan 2027": the local date as invoices and line descriptions print it.</summary>
    public string FormatDate(DateTimeOffset instant) => LocalDate(instant).ToString("d MMM yyyy", DateCulture);

    /// <summary>The end of the period that starts at <paramref name="periodStart"/>: one interval later, on the anchor day.</summary>
    public DateTimeOffset NextPeriodEnd(DateTimeOffset periodStart, BillingInterval interval, int anchorDay) =>
        OnAnchorDay(periodStart, interval, anchorDay, intervals: 1);

    /// <summary>
    /// The start of the whole period that ends at <paramref name="periodEnd"/>, an anchor date: one interval earlier,
    /// on the anchor day, at the same local time.
    /// </summary>
    public DateTimeOffset PreviousPeriodStart(DateTimeOffset periodEnd, BillingInterval interval, int anchorDay) =>
        OnAnchorDay(periodEnd, interval, anchorDay, intervals: -1);

    /// <summary>
    /// The first anchor date after the local date of <paramref name="after"/>, at its local time: later the same month when
    /// the anchor day is still to come, else <see cref="NextPeriodEnd"/>. Never more than one interval away; exactly one
    /// when <paramref name="after"/> is itself an anchor date.
    /// </summary>
    public DateTimeOffset NextAnchorDate(DateTimeOffset after, BillingInterval interval, int anchorDay)
    {
        EnsureAnchorDay(anchorDay);
        var local = ToLocal(after);
        var day = Math.Min(anchorDay, DateTime.DaysInMonth(local.Year, local.Month));
        return day > local.Day
            ? ToUtc(new DateTime(local.Year, local.Month, day).Add(local.TimeOfDay))
            : NextPeriodEnd(after, interval, anchorDay);
    }

    /// <summary>
    /// The same local time <paramref name="months"/> months later (the day clamped in short months): a discount's end, so
    /// that a month of it covers exactly one monthly period start whatever daylight saving does in between.
    /// </summary>
    public DateTimeOffset MonthsLater(DateTimeOffset from, int months) => ToUtc(ToLocal(from).AddMonths(months));

    /// <summary>Whether the local date of <paramref name="instant"/> is the anchor day of its month (clamped in short months).</summary>
    public bool IsAnchorDate(DateTimeOffset instant, int anchorDay)
    {
        EnsureAnchorDay(anchorDay);
        var local = ToLocal(instant);
        return local.Day == Math.Min(anchorDay, DateTime.DaysInMonth(local.Year, local.Month));
    }

    private DateTimeOffset OnAnchorDay(DateTimeOffset from, BillingInterval interval, int anchorDay, int intervals)
    {
        EnsureAnchorDay(anchorDay);
        var local = ToLocal(from);
        var firstOfMonth = new DateTime(local.Year, local.Month, 1);
        var target = interval switch
        {
            BillingInterval.Month => firstOfMonth.AddMonths(intervals),
            BillingInterval.Year => firstOfMonth.AddYears(intervals),
            _ => throw new ArgumentOutOfRangeException(nameof(interval), interval, "Unknown billing interval."),
        };
        var day = Math.Min(anchorDay, DateTime.DaysInMonth(target.Year, target.Month));
        return ToUtc(target.AddDays(day - 1).Add(local.TimeOfDay));
    }

    private static void EnsureAnchorDay(int anchorDay)
    {
        if (anchorDay is < 1 or > 31) throw new ArgumentOutOfRangeException(nameof(anchorDay), anchorDay, "An anchor day is between 1 and 31.");
    }

    /// <summary>When a trial of <paramref name="trialDays"/> local days ends; null for no trial, as Subscription expects.</summary>
    public DateTimeOffset? TrialEnd(DateTimeOffset start, int trialDays)
    {
        if (trialDays < 0) throw new DomainRuleException("Trial days must not be negative.");
        return trialDays == 0 ? null : ToUtc(ToLocal(start).AddDays(trialDays));
    }

    private DateTime ToLocal(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, TimeZone).DateTime;

    private DateTimeOffset ToUtc(DateTime local)
    {
        TimeSpan offset;
        if (TimeZone.IsInvalidTime(local))
            // Skipped by a DST gap: the offset in force before the gap carries the time forward past it.
            offset = TimeZone.GetUtcOffset(local.AddDays(-1));
        else if (TimeZone.IsAmbiguousTime(local))
            offset = TimeZone.GetAmbiguousTimeOffsets(local).Max();
        else
            offset = TimeZone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset).ToUniversalTime();
    }
}
