using BillingConsole.Domain.Common;
using BillingConsole.Domain.Events;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Domain.Events.EventDeliveryEvent;
using static BillingConsole.Domain.Events.EventDeliveryStatus;
using static BillingConsole.Tests.Domain.Build;

namespace BillingConsole.Tests.Domain;

[PureTests]
public sealed class EventDeliveryLifecycleTests : TransitionTableTests<EventDelivery, EventDeliveryStatus, EventDeliveryEvent>
{
    private static readonly EventDeliveryStatus? __ = null;

    protected override StateMachine<EventDeliveryStatus, EventDeliveryEvent> Machine => EventDelivery.Lifecycle;

    protected override IReadOnlyDictionary<(EventDeliveryStatus From, EventDeliveryEvent On), EventDeliveryStatus> Expected { get; } = Matrix(
        //           Accepted   DeliveryFailed GaveUp  SentAgain
        (Pending,   [Delivered, Pending,       Failed, __]),
        (Delivered, [__,        __,            __,     Pending]),
        (Failed,    [__,        __,            __,     Pending]));

    /// <summary>Pending after one failed try at T0, so that a failure three days on gives up.</summary>
    protected override EventDelivery InState(EventDeliveryStatus state)
    {
        var delivery = (EventDelivery)Activator.CreateInstance(typeof(EventDelivery), nonPublic: true)!;
        if (state == Delivered) delivery.MarkDelivered(200, T0);
        else delivery.RecordFailure(500, "HTTP 500.", T0);
        if (state == Failed) delivery.RecordFailure(500, "HTTP 500.", T0 + EventDelivery.RetryWindow);
        return delivery;
    }

    protected override void Fire(EventDelivery delivery, EventDeliveryEvent on)
    {
        switch (on)
        {
            case Accepted: delivery.MarkDelivered(204, T0.AddMinutes(5)); break;
            case DeliveryFailed: delivery.RecordFailure(503, "HTTP 503.", T0.AddMinutes(5)); break;
            case GaveUp: delivery.RecordFailure(null, "No answer within 10 s.", T0 + EventDelivery.RetryWindow); break;
            case SentAgain: delivery.SendAgain(); break;
        }
    }

    protected override EventDeliveryStatus StateOf(EventDelivery delivery) => delivery.Status;

    [Fact]
    public void A_failed_delivery_waits_one_minute_then_twice_as_long_each_time_up_to_an_hour_and_is_given_up_after_three_days()
    {
        var delivery = InState(Pending);
        Assert.Equal(T0.AddMinutes(1), delivery.NextAttemptAt);
        var at = T0;
        var waits = new List<TimeSpan>();
        while (delivery.Status == Pending)
        {
            at = delivery.NextAttemptAt!.Value;
            delivery.RecordFailure(500, "HTTP 500.", at);
            if (delivery.NextAttemptAt is { } next) waits.Add(next - at);
        }
        Assert.Equal([2, 4, 8, 16, 32, 60, 60], waits.Take(7).Select(w => w.TotalMinutes));
        Assert.True(at - T0 >= EventDelivery.RetryWindow && at - T0 < EventDelivery.RetryWindow + TimeSpan.FromHours(1));
        Assert.Equal((Failed, (DateTimeOffset?)null), (delivery.Status, delivery.NextAttemptAt));
    }
}
