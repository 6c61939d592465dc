using BillingConsole.Domain.Dunning;

namespace BillingConsole.Engine.Dunning.Simulation;

/// <summary>
/// When a customer in dunning attaches a new card. Each day of the case they do so with a daily chance, a higher one on the
/// day an email reaches them and the days after (<paramref name="NoticeEffectDays"/>); the new card is charged at once
/// (see docs/pay-page.md), so the case is recovered at that moment whatever the retries were doing.
/// </summary>
/// <param name="PerDay">The daily chance without a recent email.</param>
/// <param name="PerDayNotified">The daily chance on the day of an email and the <paramref name="NoticeEffectDays"/> − 1 days after.</param>
public sealed record CardUpdateBehaviour(double PerDay, double PerDayNotified, int NoticeEffectDays)
{
    /// <summary>
    /// The days of the case on which the policy emails the customer: the payment-failed email on day 0, each "notify" step
    /// of the ladder, and the final notice.
    /// </summary>
    public static IReadOnlyList<int> NoticeDays(DunningPolicySettings policy) =>
    [
        0,
        .. policy.Ladder.Where(step => step.Action == EscalationAction.Notify).Select(step => step.Day),
        .. policy.FinalNoticeDay is { } day ? [day] : Array.Empty<int>(),
    ];

    /// <summary>
    /// When the card is attached, before the final action on <paramref name="finalActionDay"/> closes the case, or null.
    /// <paramref name="exposure"/> is the customer's draw from Exp(1) (−ln of a uniform): the card is attached once the
    /// cumulative hazard of the days passed reaches it. The same draw with and without emails keeps the customer the same
    /// person in both, so emails can only bring the attachment forward.
    /// </summary>
    /// <param name="noticeDays">Days the customer is emailed; empty for a case without emails.</param>
    public DateTimeOffset? AttachedAt(DateTimeOffset firstFailureAt, double exposure, IReadOnlyList<int> noticeDays, int finalActionDay)
    {
        var hazard = 0.0;
        for (var day = 0; day < finalActionDay; day++)
        {
            var chance = noticeDays.Any(notice => notice <= day && day < notice + NoticeEffectDays) ? PerDayNotified : PerDay;
            var today = chance <= 0 ? 0 : -Math.Log(1 - chance);
            if (today > 0 && hazard + today >= exposure) return firstFailureAt.AddDays(day + (exposure - hazard) / today);
            hazard += today;
        }
        return null;
    }
}
