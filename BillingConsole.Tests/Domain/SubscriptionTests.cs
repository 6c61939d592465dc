using BillingConsole.Domain.Common;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Domain.Subscriptions.SubscriptionStatus;
using static BillingConsole.Tests.Domain.Build;

namespace BillingConsole.Tests.Domain;

[PureTests]
public sealed class SubscriptionTests : TransitionTableTests<Subscription, SubscriptionStatus, SubscriptionEvent>
{
    private static readonly SubscriptionStatus? __ = null;

    protected override StateMachine<SubscriptionStatus, SubscriptionEvent> Machine => Subscription.Lifecycle;

    protected override IReadOnlyDictionary<(SubscriptionStatus From, SubscriptionEvent On), SubscriptionStatus> Expected { get; } = Matrix(
        //         TrialEnded PaymentFailed PaymentRecovered MarkedUnpaid Paused  Resumed Canceled
        (Trialing, [Active,   PastDue,      __,              __,          Paused, __,     Canceled]),
        (Active,   [__,       PastDue,      __,              __,          Paused, __,     Canceled]),
        (PastDue,  [__,       PastDue,      Active,          Unpaid,      __,     __,     Canceled]),
        (Unpaid,   [__,       __,           Active,          __,          __,     __,     Canceled]),
        (Paused,   [__,       __,           __,              __,          __,     Active, Canceled]),
        (Canceled, [__,       __,           __,              __,          __,     __,     __]));

    protected override Subscription InState(SubscriptionStatus state)
    {
        var subscription = New(trial: state == Trialing);
        switch (state)
        {
            case PastDue:
                subscription.MarkPastDue();
                break;
            case Unpaid:
                subscription.MarkPastDue();
                subscription.MarkUnpaid();
                break;
            case Paused:
                subscription.Pause(T0);
                break;
            case Canceled:
                subscription.Cancel(T0, CancellationKind.Voluntary);
                break;
        }
        return subscription;
    }

    protected override void Fire(Subscription subscription, SubscriptionEvent on)
    {
        switch (on)
        {
            case SubscriptionEvent.TrialEnded: subscription.EndTrial(); break;
            case SubscriptionEvent.PaymentFailed: subscription.MarkPastDue(); break;
            case SubscriptionEvent.PaymentRecovered: subscription.Recover(); break;
            case SubscriptionEvent.MarkedUnpaid: subscription.MarkUnpaid(); break;
            case SubscriptionEvent.Paused: subscription.Pause(T0); break;
            case SubscriptionEvent.Resumed: subscription.Resume(); break;
            case SubscriptionEvent.Canceled: subscription.Cancel(T0, CancellationKind.Voluntary); break;
            default: throw new ArgumentOutOfRangeException(nameof(on), on, null);
        }
    }

    protected override SubscriptionStatus StateOf(Subscription subscription) => subscription.Status;

    private static Subscription New(bool trial) =>
        new(CustomerId, PriceId, 1, T0, T0.AddDays(14), trial ? T0.AddDays(14) : null);

    [Fact]
    public void Advancing_a_trial_converts_it_and_applies_the_scheduled_price()
    {
        var subscription = New(trial: true);
        var cheaper = Guid.NewGuid();
        subscription.SchedulePriceChange(cheaper, 3);

        subscription.AdvancePeriod(T0.AddDays(14), T0.AddDays(14).AddMonths(1));

        Assert.Equal((Active, cheaper, 3), (subscription.Status, subscription.PriceId, subscription.Quantity));
        Assert.Null(subscription.PendingPriceId);
        Assert.Equal(T0.AddDays(14), subscription.CurrentPeriodStart);
    }

    [Fact]
    public void A_period_that_does_not_follow_the_current_one_is_refused()
    {
        var subscription = New(trial: false);
        Assert.Throws<DomainRuleException>(() => subscription.AdvancePeriod(T0.AddDays(15), T0.AddDays(45)));
    }

    [Fact]
    public void Canceling_clears_a_scheduled_cancellation_and_price_change()
    {
        var subscription = New(trial: false);
        subscription.ScheduleCancellation();
        subscription.SchedulePriceChange(Guid.NewGuid(), 2);

        subscription.Cancel(T0.AddDays(3), CancellationKind.Involuntary);

        Assert.False(subscription.CancelAtPeriodEnd);
        Assert.Null(subscription.PendingPriceId);
        Assert.Equal((T0.AddDays(3), CancellationKind.Involuntary), (subscription.CanceledAt, subscription.CancellationKind));
    }

    [Theory]
    [InlineData(Unpaid)]
    [InlineData(Paused)]
    [InlineData(Canceled)]
    public void The_plan_of_a_subscription_that_is_not_billed_cannot_change(SubscriptionStatus state) =>
        Assert.Throws<DomainRuleException>(() => InState(state).ChangePrice(Guid.NewGuid(), 1));

    [Fact]
    public void Blocked_plan_changes_are_refused_until_the_payment_recovers()
    {
        var subscription = New(trial: false);
        subscription.MarkPastDue();
        subscription.BlockPlanChanges();
        Assert.Throws<DomainRuleException>(() => subscription.SchedulePriceChange(Guid.NewGuid(), 1));

        subscription.Recover();
        subscription.SchedulePriceChange(Guid.NewGuid(), 1);
        Assert.False(subscription.PlanChangesBlocked);
    }
}
