using BillingConsole.Domain.Dunning;
using BillingConsole.Engine.Dunning.Simulation;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Engine.Dunning;

[PureTests]
public sealed class CardUpdateBehaviourTests
{
    private static readonly DateTimeOffset Failed = new(2025, 3, 5, 2, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_customer_is_emailed_on_the_day_of_the_failure_on_each_notify_step_and_with_the_final_notice()
    {
        Assert.Equal([0, 10, 18], CardUpdateBehaviour.NoticeDays(DunningPolicySettings.Default));
        var quiet = DunningPolicySettings.Default with
        {
            Ladder = [new(7, EscalationAction.Notify), new(9, EscalationAction.Notify), new(12, EscalationAction.FinalAction)],
            FinalNoticeDaysBefore = 0,
        };
        Assert.Equal([0, 7, 9], CardUpdateBehaviour.NoticeDays(quiet));
    }

    [Fact]
    public void The_card_is_attached_once_the_days_hazard_reaches_the_customers_draw()
    {
        var cards = new CardUpdateBehaviour(PerDay: 0.1, PerDayNotified: 0.5, NoticeEffectDays: 2);
        var daily = -Math.Log(0.9);

        // Without emails: the draw of 2.5 days' hazard is reached halfway through day 2.
        Assert.Equal(Failed.AddDays(2.5), cards.AttachedAt(Failed, 2.5 * daily, [], finalActionDay: 21));
        // An email on day 1 makes days 1 and 2 count −ln 0.5 each: the same customer acts on day 1.
        var attached = cards.AttachedAt(Failed, 2.5 * daily, [1], finalActionDay: 21)!.Value;
        Assert.InRange(attached, Failed.AddDays(1), Failed.AddDays(2));
    }

    [Fact]
    public void Emails_never_delay_a_card_and_nothing_is_attached_after_the_final_action()
    {
        var cards = new CardUpdateBehaviour(PerDay: 0.02, PerDayNotified: 0.2, NoticeEffectDays: 3);
        foreach (var exposure in new[] { 0.001, 0.05, 0.3, 0.9, 2.0 })
        {
            var without = cards.AttachedAt(Failed, exposure, [], 21);
            var with = cards.AttachedAt(Failed, exposure, [0, 10, 18], 21);
            Assert.True(with is not null && (without is null || with <= without), $"exposure {exposure}: {with} with emails, {without} without.");
        }
        Assert.Null(cards.AttachedAt(Failed, 50, [0, 10, 18], 21));
        Assert.Null(new CardUpdateBehaviour(0, 0, 3).AttachedAt(Failed, 0.001, [0], 21));
    }
}
