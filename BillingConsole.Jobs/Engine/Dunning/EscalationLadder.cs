using BillingConsole.Domain.Dunning;

namespace BillingConsole.Engine.Dunning;

/// <summary>
/// Which steps of the escalation ladder a case owes at a moment: a pure function of when the case opened, how far it has
/// climbed and the policy in force. A step's day counts whole days from the first failure (the case's opening), as the
/// retry window does.
/// </summary>
public static class EscalationLadder
{
    /// <summary>
    /// The steps due at <paramref name="now"/>, in ladder order: those after the last step taken whose day has come. Steps
    /// already taken stay taken; a saved ladder applies from the case's next step: a step of it on or before the day of the
    /// last step taken is not taken.
    /// </summary>
    public static IReadOnlyList<EscalationStep> Due(DateTimeOffset openedAt, int lastStepDay, DunningPolicySettings policy, DateTimeOffset now) =>
        [.. policy.Ladder.Where(step => step.Day > lastStepDay && DayOf(openedAt, step) <= now)];

    /// <summary>
    /// Whether the final notice is due at <paramref name="now"/>: from its day (the policy's days before the final action)
    /// until the final action's day, when the final action itself is due instead. Whether it was already written is the caller's.
    /// </summary>
    public static bool FinalNoticeDue(DateTimeOffset openedAt, DunningPolicySettings policy, DateTimeOffset now) =>
        policy.FinalNoticeDay is { } day && openedAt.AddDays(day) <= now && now < openedAt.AddDays(policy.FinalActionDay);

    /// <summary>When <paramref name="step"/> falls for a case opened at <paramref name="openedAt"/>.</summary>
    public static DateTimeOffset DayOf(DateTimeOffset openedAt, EscalationStep step) => openedAt.AddDays(step.Day);

    /// <summary>The message template a notify step calls for, named by its day; null for the other steps.</summary>
    public static string? TemplateFor(EscalationStep step) =>
        step.Action == EscalationAction.Notify ? $"dunning_notice_day_{step.Day}" : null;
}
