using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Notifications;

public enum NotificationStatus { Pending, Sent, Failed, NotSent }

public enum NotificationEvent { Sent, DeliveryFailed, GaveUp, Undeliverable }

/// <summary>
/// One email the customer is owed, written in the same transaction as the event that causes it (the outbox) and delivered
/// later. The (kind, event key) pair is unique, so one event never gives two emails. A failed delivery is tried again with
/// a growing delay until <see cref="MaxAttempts"/>; a customer without a usable address is never tried (not sent).
/// </summary>
public sealed class Notification : Entity
{
    public const int MaxAttempts = 16;
    private static readonly TimeSpan LongestDelay = TimeSpan.FromHours(6);

    private static readonly StateMachine<NotificationStatus, NotificationEvent> Lifecycle = new(
        (NotificationStatus.Pending, NotificationEvent.Sent, NotificationStatus.Sent),
        (NotificationStatus.Pending, NotificationEvent.DeliveryFailed, NotificationStatus.Pending),
        (NotificationStatus.Pending, NotificationEvent.GaveUp, NotificationStatus.Failed),
        (NotificationStatus.Pending, NotificationEvent.Undeliverable, NotificationStatus.NotSent));

    private Notification() { }

    public Notification(Guid customerId, string kind, string eventKey, Guid? invoiceId, Guid? dunningCaseId, DateTimeOffset createdAt)
    {
        if (string.IsNullOrWhiteSpace(kind)) throw new ArgumentException("A notification needs a kind.", nameof(kind));
        if (string.IsNullOrWhiteSpace(eventKey)) throw new ArgumentException("A notification needs the key of its event.", nameof(eventKey));
        CustomerId = customerId;
        Kind = kind;
        EventKey = eventKey;
        InvoiceId = invoiceId;
        DunningCaseId = dunningCaseId;
        CreatedAt = createdAt;
        NextAttemptAt = createdAt;
    }

    public Guid CustomerId { get; private set; }
    /// <summary>Which template it is written with (see Engine.Notifications.NotificationKinds).</summary>
    public string Kind { get; private set; } = string.Empty;
    /// <summary>What caused it (an invoice, a payment attempt, a case's step): unique with the kind.</summary>
    public string EventKey { get; private set; } = string.Empty;
    public Guid? InvoiceId { get; private set; }
    public Guid? DunningCaseId { get; private set; }
    public NotificationStatus Status { get; private set; } = NotificationStatus.Pending;
    public int Attempts { get; private set; }
    /// <summary>When a pending notification is next tried; null once it is no longer pending.</summary>
    public DateTimeOffset? NextAttemptAt { get; private set; }
    /// <summary>Why the last delivery failed, or why it was not sent.</summary>
    public string? LastError { get; private set; }
    /// <summary>The address and subject it was sent with (or last tried with).</summary>
    public string? Recipient { get; private set; }
    public string? Subject { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset? SentAt { get; private set; }

    /// <summary>The same email again for support: a new notification of the kind, its own event key naming this one.</summary>
    public Notification Resend(DateTimeOffset at) =>
        new(CustomerId, Kind, $"{EventKey}:resend:{Guid.CreateVersion7():N}", InvoiceId, DunningCaseId, at);

    /// <summary>The mail server accepted it.</summary>
    public void MarkSent(string recipient, string subject, DateTimeOffset at)
    {
        Status = Lifecycle.Fire(Status, NotificationEvent.Sent);
        Attempts++;
        Recipient = recipient;
        Subject = subject;
        SentAt = at;
        NextAttemptAt = null;
    }

    /// <summary>A delivery failed: tried again after a delay that doubles each time (1 min, 2, 4 … up to 6 h), or given up.</summary>
    public void RecordFailure(string error, DateTimeOffset at)
    {
        var attempts = Attempts + 1;
        var giveUp = attempts >= MaxAttempts;
        Status = Lifecycle.Fire(Status, giveUp ? NotificationEvent.GaveUp : NotificationEvent.DeliveryFailed);
        Attempts = attempts;
        LastError = error.Length > 1000 ? error[..1000] : error;
        NextAttemptAt = giveUp ? null : at + RetryDelay(attempts);
    }

    /// <summary>It cannot be delivered at all (no usable address): shown with the reason instead of silence.</summary>
    public void MarkNotSent(string reason)
    {
        Status = Lifecycle.Fire(Status, NotificationEvent.Undeliverable);
        LastError = reason;
        NextAttemptAt = null;
    }

    public static TimeSpan RetryDelay(int failedAttempts) => Backoff.Exponential(failedAttempts, LongestDelay);
}
