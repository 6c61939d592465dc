using BillingConsole.Tests.Infrastructure;
using BillingConsole.Domain.Dunning;
using BillingConsole.Engine.Dunning;

namespace BillingConsole.Tests.Engine.Dunning;

[PureTests]
public sealed class EscalationLadderTests
{
    private static readonly DateTimeOffset Opened = new(2027, 3, 15, 0, 5, 0, TimeSpan.Zero);
    private static readonly EscalationStep Notify = new(10, EscalationAction.Notify);
    private static readonly EscalationStep Block = new(14, EscalationAction.BlockPlanChanges);
    private static readonly EscalationStep Final = new(21, EscalationAction.FinalAction);
    private static readonly DunningPolicySettings Policy = DunningPolicySettings.Default with { Ladder = [Notify, Block, Final] };

    private static IReadOnlyList<EscalationStep> DueOnDay(double day, int lastStepDay = 0, DunningPolicySettings? policy = null) =>
        EscalationLadder.Due(Opened, lastStepDay, policy ?? Policy, Opened.AddDays(day));

    [Fact]
    public void Nothing_is_due_before_the_first_step_s_day()
    {
        Assert.Empty(DueOnDay(0));
        Assert.Empty(DueOnDay(10 - 1.0 / 24 / 60));
    }

    [Fact]
    public void Each_step_is_due_from_its_day_after_the_failure_until_it_is_taken()
    {
        Assert.Equal([Notify], DueOnDay(10));
        Assert.Empty(DueOnDay(13, lastStepDay: 10));
        Assert.Equal([Block], DueOnDay(14, lastStepDay: 10));
        Assert.Equal([Final], DueOnDay(21, lastStepDay: 14));
        Assert.Empty(DueOnDay(40, lastStepDay: 21));
    }

    [Fact]
    public void Steps_missed_by_a_pass_that_did_not_run_are_all_due_in_ladder_order() =>
        Assert.Equal([Notify, Block, Final], DueOnDay(25));

    [Fact]
    public void A_saved_ladder_applies_from_the_case_s_next_step()
    {
        // Taken: notify on day 10. The new ladder adds a reminder on day 7 (passed) and one on day 12, and moves the block.
        var saved = Policy with { Ladder = [new(7, EscalationAction.Notify), new(12, EscalationAction.Notify), new(16, EscalationAction.BlockPlanChanges), new(28, EscalationAction.FinalAction)] };

        Assert.Empty(DueOnDay(11, lastStepDay: 10, saved));
        Assert.Equal([new EscalationStep(12, EscalationAction.Notify)], DueOnDay(12, lastStepDay: 10, saved));
        Assert.Empty(DueOnDay(15, lastStepDay: 12, saved));
        Assert.Equal([new EscalationStep(16, EscalationAction.BlockPlanChanges)], DueOnDay(16, lastStepDay: 12, saved));
        Assert.Empty(DueOnDay(21, lastStepDay: 16, saved));
        Assert.Equal([new EscalationStep(28, EscalationAction.FinalAction)], DueOnDay(28, lastStepDay: 16, saved));
    }

    [Fact]
    public void A_notify_step_calls_for_the_template_of_its_day_and_the_others_for_none()
    {
        Assert.Equal("dunning_notice_day_10", EscalationLadder.TemplateFor(Notify));
        Assert.Null(EscalationLadder.TemplateFor(Block));
        Assert.Null(EscalationLadder.TemplateFor(Final));
    }

    [Fact]
    public void The_final_notice_is_due_from_its_days_before_the_final_action_until_the_final_action_s_day()
    {
        var policy = Policy with { FinalNoticeDaysBefore = 3 };
        Assert.False(EscalationLadder.FinalNoticeDue(Opened, policy, Opened.AddDays(18).AddMinutes(-1)));
        Assert.True(EscalationLadder.FinalNoticeDue(Opened, policy, Opened.AddDays(18)));
        Assert.True(EscalationLadder.FinalNoticeDue(Opened, policy, Opened.AddDays(21).AddMinutes(-1)));
        Assert.False(EscalationLadder.FinalNoticeDue(Opened, policy, Opened.AddDays(21)));
        Assert.True(EscalationLadder.FinalNoticeDue(Opened, policy with { FinalNoticeDaysBefore = 20 }, Opened.AddDays(1)));
        Assert.False(EscalationLadder.FinalNoticeDue(Opened, policy with { FinalNoticeDaysBefore = 0 }, Opened.AddDays(20)));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(21)]
    [InlineData(30)]
    public void A_final_notice_not_before_the_final_action_day_is_refused(int daysBefore)
    {
        var errors = (Policy with { FinalNoticeDaysBefore = daysBefore }).Validate();
        Assert.Equal("The final notice goes 0 (none) to 20 days before the final action on day 21.", errors[nameof(DunningPolicySettings.FinalNoticeDaysBefore)]);
        Assert.Empty((Policy with { FinalNoticeDaysBefore = 20 }).Validate());
    }
}
