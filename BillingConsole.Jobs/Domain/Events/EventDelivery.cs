using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Events;

public enum EventDeliveryStatus { Pending, Delivered, Failed }

public enum EventDeliveryEvent { Accepted, DeliveryFailed, GaveUp, SentAgain }

/// <summary>
/// One event owed to one endpoint, written with the event (see the events outbox). A failure is tried again with a delay that
/// doubles up to an hour, until <see cref="RetryWindow"/> after the first try; then it is given up and its endpoint disabled.
/// An admin may send any delivery again.
/// </summary>
public sealed class EventDelivery : Entity
{
    public static readonly TimeSpan RetryWindow = TimeSpan.FromDays(3);
    private static readonly TimeSpan LongestDelay = TimeSpan.FromHours(1);

    public static readonly StateMachine<EventDeliveryStatus, EventDeliveryEvent> Lifecycle = new(
        (EventDeliveryStatus.Pending, EventDeliveryEvent.Accepted, EventDeliveryStatus.Delivered),
        (EventDeliveryStatus.Pending, EventDeliveryEvent.DeliveryFailed, EventDeliveryStatus.Pending),
        (EventDeliveryStatus.Pending, EventDeliveryEvent.GaveUp, EventDeliveryStatus.Failed),
        (EventDeliveryStatus.Delivered, EventDeliveryEvent.SentAgain, EventDeliveryStatus.Pending),
        (EventDeliveryStatus.Failed, EventDeliveryEvent.SentAgain, EventDeliveryStatus.Pending));

    private EventDelivery() { }

    public Guid EventId { get; private set; }
    public Guid EndpointId { get; private set; }
    public EventDeliveryStatus Status { get; private set; } = EventDeliveryStatus.Pending;
    public int Attempts { get; private set; }
    /// <summary>When a failed delivery is tried again; null while it is due at once (new, or sent again).</summary>
    public DateTimeOffset? NextAttemptAt { get; private set; }
    public DateTimeOffset? FirstAttemptAt { get; private set; }
    public DateTimeOffset? DeliveredAt { get; private set; }
    public int? LastStatusCode { get; private set; }
    public string? LastError { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>The receiver answered 2xx.</summary>
    public void MarkDelivered(int statusCode, DateTimeOffset at)
    {
        Status = Lifecycle.Fire(Status, EventDeliveryEvent.Accepted);
        Tried(at);
        LastStatusCode = statusCode;
        LastError = null;
        DeliveredAt = at;
        NextAttemptAt = null;
    }

    /// <summary>Anything but 2xx, or no answer: tried again later, or given up once the retry window has passed. True when given up.</summary>
    public bool RecordFailure(int? statusCode, string error, DateTimeOffset at)
    {
        var giveUp = at - (FirstAttemptAt ?? at) >= RetryWindow;
        Status = Lifecycle.Fire(Status, giveUp ? EventDeliveryEvent.GaveUp : EventDeliveryEvent.DeliveryFailed);
        Tried(at);
        LastStatusCode = statusCode;
        LastError = error.Length > 1000 ? error[..1000] : error;
        NextAttemptAt = giveUp ? null : at + Backoff.Exponential(Attempts, LongestDelay);
        return giveUp;
    }

    /// <summary>An admin's "send again": due at once, with a fresh retry window; the earlier attempts stay in the log.</summary>
    public void SendAgain()
    {
        Status = Lifecycle.Fire(Status, EventDeliveryEvent.SentAgain);
        NextAttemptAt = null;
        FirstAttemptAt = null;
        DeliveredAt = null;
    }

    private void Tried(DateTimeOffset at)
    {
        Attempts++;
        FirstAttemptAt ??= at;
    }
}

/// <summary>One try of a delivery, as the endpoint's delivery log shows it.</summary>
public sealed class EventDeliveryAttempt : Entity
{
    public const int ExcerptLength = 500;

    private EventDeliveryAttempt() { }

    public EventDeliveryAttempt(Guid deliveryId, Guid endpointId, DateTimeOffset attemptedAt, int? statusCode, int latencyMs, string? responseExcerpt, string? error)
    {
        DeliveryId = deliveryId;
        EndpointId = endpointId;
        AttemptedAt = attemptedAt;
        StatusCode = statusCode;
        LatencyMs = latencyMs;
        ResponseExcerpt = responseExcerpt is { Length: > ExcerptLength } ? responseExcerpt[..ExcerptLength] : responseExcerpt;
        Error = error is { Length: > 1000 } ? error[..1000] : error;
    }

    public Guid DeliveryId { get; private set; }
    public Guid EndpointId { get; private set; }
    public DateTimeOffset AttemptedAt { get; private set; }
    /// <summary>The receiver's HTTP status; null when it did not answer (refused, timed out).</summary>
    public int? StatusCode { get; private set; }
    public int LatencyMs { get; private set; }
    public string? ResponseExcerpt { get; private set; }
    public string? Error { get; private set; }
}

/// <summary>
/// Something that happened to an object the API shows (an invoice, a payment, a subscription, a dunning case, a customer),
/// recorded by the database in the transaction that changed it. <see cref="Sequence"/> orders events; deliveries of one
/// <see cref="OrderingKey"/> go out in that order. The body is written when the event is first sent and never changes after
/// (see Engine.Events.EventSender), so every endpoint and every retry gets the same bytes.
/// </summary>
public sealed class OutgoingEvent
{
    private OutgoingEvent() { }

    public Guid Id { get; private set; }
    public long Sequence { get; private set; }
    public string Type { get; private set; } = string.Empty;
    public string ObjectType { get; private set; } = string.Empty;
    public Guid ObjectId { get; private set; }
    public Guid OrderingKey { get; private set; }
    public Guid? CustomerId { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public string? Body { get; private set; }
}
