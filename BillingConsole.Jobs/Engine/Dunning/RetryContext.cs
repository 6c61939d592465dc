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

    // The scheduler asks this for every candidate hour; a zone without daylight saving needs no rule lookup.
    private DateTime LocalTime(DateTimeOffset at) =>
        TimeZone.SupportsDaylightSavingTime ? TimeZoneInfo.ConvertTime(at, TimeZone).DateTime : at.UtcDateTime + TimeZone.BaseUtcOffset;
}
