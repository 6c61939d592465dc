using BillingConsole.Domain.Common;

namespace BillingConsole.Engine.Dunning;

/// <summary>What the scheduler knows about one dunning case when it picks the next retry.</summary>
/// <param name="FirstDeclineCode">The decline that opened the case.</param>
/// <param name="LastDeclineCode">The decline of the most recent failure: it decides whether a retry can succeed at all.</param>
/// <param name="FirstFailureAt">The failure that opened the case; the policy's days count from here.</param>
/// <param name="RetriesMadeAt">Retries already made for this case (the opening failure is not one), in any order.</param>
/// <param name="Amount">What is owed.</param>
/// <param name="TimeZone">The customer's billing time zone: weekdays, hours and paydays are the customer's, not the server's.</param>
/// <param name="Now">The moment of the decision.</param>
public sealed record RetryContext(
    string FirstDeclineCode,
    string LastDeclineCode,
    DateTimeOffset FirstFailureAt,
    IReadOnlyList<DateTimeOffset> RetriesMadeAt,
    Money Amount,
    TimeZoneInfo TimeZone,
    DateTimeOffset Now)
{
    public int RetriesMade => RetriesMadeAt.Count;

    public DateTimeOffset? LastRetryAt => RetriesMadeAt.Count == 0 ? null : RetriesMadeAt.Max();

    /// <summary>The question to ask a recovery model about a retry at <paramref name="at"/>.</summary>
    public RecoveryQuery QueryAt(DateTimeOffset at, int attemptNumber) =>
        new(LastDeclineCode, attemptNumber, (at - FirstFailureAt).TotalDays, LocalTime(at));

    /// <summary>
    /// The questions for retries at <paramref name="times"/> (ascending), all with retry number 0: the scheduler's search asks
    /// about every candidate hour of a case, and the zone's offset is looked up only where it may change, not at every hour.
    /// </summary>
    public RecoveryQuery[] QueriesAt(IReadOnlyList<DateTimeOffset> times)
    {
        var queries = new RecoveryQuery[times.Count];
        if (times.Count == 0) return queries;
        var last = times.Count - 1;
        FillQueries(times, queries, 0, last, Offset(times[0]), Offset(times[last]));
        return queries;
    }

    // Within a day whose two ends have the same offset there is no transition: no zone changes its clocks twice in a day.
    private void FillQueries(IReadOnlyList<DateTimeOffset> times, RecoveryQuery[] queries, int from, int to, TimeSpan fromOffset, TimeSpan toOffset)
    {
        if (fromOffset == toOffset && times[to] - times[from] <= TimeSpan.FromDays(1) || to - from <= 1)
        {
            queries[from] = Query(times[from], fromOffset);
            for (var i = from + 1; i < to; i++) queries[i] = Query(times[i], fromOffset);
            queries[to] = Query(times[to], toOffset);
            return;
        }
        var middle = (from + to) / 2;
        var middleOffset = Offset(times[middle]);
        FillQueries(times, queries, from, middle, fromOffset, middleOffset);
        FillQueries(times, queries, middle, to, middleOffset, toOffset);
    }

    private RecoveryQuery Query(DateTimeOffset at, TimeSpan offset) => new(LastDeclineCode, 0, (at - FirstFailureAt).TotalDays, Local(at, offset));

    private TimeSpan Offset(DateTimeOffset at) => TimeZone.SupportsDaylightSavingTime ? TimeZone.GetUtcOffset(at) : TimeZone.BaseUtcOffset;

    private DateTime LocalTime(DateTimeOffset at) => Local(at, Offset(at));

    // As the customer's wall clock shows it: of no kind, like TimeZoneInfo.ConvertTime's.
    private static DateTime Local(DateTimeOffset at, TimeSpan offset) => new(at.UtcTicks + offset.Ticks, DateTimeKind.Unspecified);
}
