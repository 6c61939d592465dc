using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Domain.Dunning.DunningStatus;
using static BillingConsole.Tests.Domain.Build;

namespace BillingConsole.Tests.Domain;

[PureTests]
public sealed class DunningCaseTests : TransitionTableTests<DunningCase, DunningStatus, DunningEvent>
{
    private static readonly DunningStatus? __ = null;
    private const DunningStatus Awaiting = AwaitingPaymentMethod;
    private static readonly EscalationStep Notify = new(10, EscalationAction.Notify);
    private static readonly EscalationStep Block = new(14, EscalationAction.BlockPlanChanges);
    private static readonly EscalationStep FinalStep = new(21, EscalationAction.FinalAction);

    protected override StateMachine<DunningStatus, DunningEvent> Machine => DunningCase.Lifecycle;

    protected override IReadOnlyDictionary<(DunningStatus From, DunningEvent On), DunningStatus> Expected { get; } = Matrix(
        //              RetryStarted SoftDecline   HardDecline PaymentSucceeded BudgetExhausted PaymentMethodAttached Reset         InvoiceClosed ChargingPaused FinalActionDayReached
        (RetryPending,  [Retrying,   __,           Awaiting,   Recovered,       Exhausted,      RetryPending,         RetryPending, Closed,       __,            Exhausted]),
        (Retrying,      [__,         RetryPending, Awaiting,   Recovered,       Exhausted,      __,                   RetryPending, Closed,       RetryPending,  __]),
        (Awaiting,      [__,         __,           __,         Recovered,       Exhausted,      RetryPending,         RetryPending, Closed,       __,            Exhausted]),
        (Recovered,     [__,         __,           __,         __,              __,             __,                   __,           __,           __,            __]),
        (Exhausted,     [__,         __,           __,         Recovered,       __,             __,                   __,           __,           __,            __]),
        (Closed,        [__,         __,           __,         __,              __,             __,                   __,           __,           __,            __]));

    protected override DunningCase InState(DunningStatus state)
    {
        var dunning = new DunningCase(Guid.NewGuid(), CustomerId, null, Usd(49), 1, DeclineCodes.InsufficientFunds, T0);
        switch (state)
        {
            case Retrying: dunning.StartRetry(T0.AddDays(1)); break;
            case AwaitingPaymentMethod: dunning.RecordHardDecline(DeclineCodes.StolenCard, T0.AddDays(1)); break;
            case Recovered: dunning.Recover(T0.AddDays(1)); break;
            case Exhausted: dunning.Exhaust(nameof(FinalAction.MarkUncollectible), T0.AddDays(21)); break;
            case Closed: dunning.CloseBecauseInvoiceClosed(T0.AddDays(2)); break;
        }
        return dunning;
    }

    protected override void Fire(DunningCase dunning, DunningEvent on)
    {
        var at = T0.AddDays(25);
        switch (on)
        {
            case DunningEvent.RetryStarted: dunning.StartRetry(at); break;
            case DunningEvent.SoftDecline: dunning.RecordSoftDecline(DeclineCodes.TryAgainLater, at); break;
            case DunningEvent.HardDecline: dunning.RecordHardDecline(DeclineCodes.LostCard, at); break;
            case DunningEvent.PaymentSucceeded: dunning.Recover(at); break;
            case DunningEvent.BudgetExhausted: dunning.Exhaust(nameof(FinalAction.CancelSubscription), at); break;
            case DunningEvent.PaymentMethodAttached: dunning.PaymentMethodAttached(at); break;
            case DunningEvent.Reset: dunning.Reset(at); break;
            case DunningEvent.InvoiceClosed: dunning.CloseBecauseInvoiceClosed(at); break;
            case DunningEvent.ChargingPaused: dunning.PostponeWhileChargingPaused(at.AddMinutes(1), at); break;
            case DunningEvent.FinalActionDayReached: dunning.TakeFinalAction(FinalStep, nameof(FinalAction.MarkUnpaid), at); break;
            default: throw new ArgumentOutOfRangeException(nameof(on), on, null);
        }
    }

    protected override DunningStatus StateOf(DunningCase dunning) => dunning.Status;

    [Fact]
    public void A_retry_counts_and_a_soft_decline_waits_for_the_next_one()
    {
        var dunning = InState(RetryPending);
        dunning.Schedule(T0.AddDays(1), 0.4, "fixed schedule");

        dunning.StartRetry(T0.AddDays(1));
        Assert.Equal((1, (DateTimeOffset?)null), (dunning.RetriesMade, dunning.NextAttemptAt));
        Assert.Throws<DomainRuleException>(() => dunning.Schedule(T0.AddDays(3), 0.3, "fixed schedule"));

        dunning.RecordSoftDecline(DeclineCodes.InsufficientFunds, T0.AddDays(1));
        dunning.Schedule(T0.AddDays(3), 0.3, "fixed schedule");
        Assert.Equal((RetryPending, T0.AddDays(3)), (dunning.Status, dunning.NextAttemptAt));
    }

    [Fact]
    public void A_hard_decline_drops_the_schedule_and_waits_for_a_new_card()
    {
        var dunning = InState(RetryPending);
        dunning.Schedule(T0.AddDays(1), 0.4, "fixed schedule");

        dunning.RecordHardDecline(DeclineCodes.StolenCard, T0.AddHours(2));

        Assert.Equal((Awaiting, DeclineCodes.StolenCard), (dunning.Status, dunning.LastDeclineCode));
        Assert.Null(dunning.NextAttemptAt);
        Assert.True(dunning.IsOpen);
    }

    [Theory]
    [InlineData(RetryPending, true)]
    [InlineData(AwaitingPaymentMethod, true)]
    [InlineData(Retrying, false)]
    [InlineData(Recovered, false)]
    [InlineData(Exhausted, false)]
    [InlineData(Closed, false)]
    public void A_decline_of_a_charge_dunning_did_not_make_is_recorded_on_a_waiting_case_only_and_keeps_its_state(DunningStatus state, bool recorded)
    {
        var dunning = InState(state);
        var before = (dunning.Status, dunning.LastDeclineCode, dunning.NextAttemptAt);

        if (recorded) dunning.RecordDeclineOutsideRetry(DeclineCodes.DoNotHonor, T0.AddDays(3));
        else Assert.Throws<DomainRuleException>(() => dunning.RecordDeclineOutsideRetry(DeclineCodes.DoNotHonor, T0.AddDays(3)));

        Assert.Equal(recorded ? (before.Status, DeclineCodes.DoNotHonor, before.NextAttemptAt) : before,
            (dunning.Status, dunning.LastDeclineCode, dunning.NextAttemptAt));
    }

    [Fact]
    public void The_escalation_ladder_only_climbs_and_records_each_step_with_its_time()
    {
        var dunning = InState(RetryPending);
        dunning.TakeStep(Notify, "dunning_notice_day_10", T0.AddDays(10));
        Assert.Throws<DomainRuleException>(() => dunning.TakeStep(Notify, "dunning_notice_day_10", T0.AddDays(11)));
        Assert.Throws<DomainRuleException>(() => dunning.TakeStep(new EscalationStep(7, EscalationAction.BlockPlanChanges), null, T0.AddDays(11)));
        dunning.TakeStep(Block, null, T0.AddDays(14));

        Assert.Equal([(10, EscalationAction.Notify, "dunning_notice_day_10", T0.AddDays(10)), (14, EscalationAction.BlockPlanChanges, null, T0.AddDays(14))],
            dunning.Steps.Select(s => (s.Day, s.Action, s.Template, s.TakenAt)));
        Assert.Equal((2, 14, RetryPending), (dunning.EscalationStep, dunning.LastStepDay, dunning.Status));
    }

    [Fact]
    public void The_final_action_on_its_day_ends_a_case_with_retries_left_but_not_a_retry_in_flight()
    {
        var waiting = InState(RetryPending);
        waiting.Schedule(T0.AddDays(22), 0.3, "fixed schedule");
        Assert.Throws<DomainRuleException>(() => waiting.TakeStep(FinalStep, null, T0.AddDays(21)));

        waiting.TakeFinalAction(FinalStep, "mark_uncollectible", T0.AddDays(21));

        Assert.Equal((Exhausted, "mark_uncollectible", T0.AddDays(21), (DateTimeOffset?)null), (waiting.Status, waiting.FinalAction, waiting.ClosedAt, waiting.NextAttemptAt));
        Assert.Equal(EscalationAction.FinalAction, Assert.Single(waiting.Steps).Action);
        Assert.Throws<DomainRuleException>(() => waiting.TakeStep(new EscalationStep(30, EscalationAction.Notify), null, T0.AddDays(30)));

        var retrying = InState(Retrying);
        Assert.Throws<IllegalTransitionException>(() => retrying.TakeFinalAction(FinalStep, "mark_uncollectible", T0.AddDays(21)));
        Assert.Equal((Retrying, 0), (retrying.Status, retrying.Steps.Count));
    }
}
