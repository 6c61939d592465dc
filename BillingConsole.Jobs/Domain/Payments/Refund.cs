using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Payments;

/// <remarks>
/// <see cref="RefundStatus.Pending"/>: recorded and sent (or about to be), the gateway's answer not yet known; the amount
/// counts as refunded until the gateway says it failed, so concurrent requests can never refund more than was paid.
/// </remarks>
public enum RefundStatus { Pending, Succeeded, Failed }

public enum RefundEvent { Succeeded, Failed }

/// <summary>Why money or credit goes back to a customer, as a credit note states it.</summary>
public enum CreditReason { Duplicate, ProductUnsatisfactory, OrderChange, Goodwill }

/// <summary>
/// Money returned on a successful payment, through the gateway that took it. Its idempotency key is derived from its own id,
/// so sending it again after a timeout, a crash or a reconciliation pass never refunds twice.
/// </summary>
public sealed class Refund : Entity
{
    public static readonly StateMachine<RefundStatus, RefundEvent> Lifecycle = new(
        (RefundStatus.Pending, RefundEvent.Succeeded, RefundStatus.Succeeded),
        (RefundStatus.Pending, RefundEvent.Failed, RefundStatus.Failed));

    private decimal _amount;

    private Refund() { }

    public Refund(PaymentAttempt payment, Money amount, CreditReason reason, string? memo, string requestedBy, DateTimeOffset at)
    {
        if (payment.Status != PaymentAttemptStatus.Succeeded) throw new DomainRuleException("Only a successful payment can be refunded.");
        if (!amount.IsPositive) throw new DomainRuleException("A refund must be more than zero.");
        if (amount > payment.Amount) throw new DomainRuleException("A refund cannot be more than the payment.");
        PaymentAttemptId = payment.Id;
        InvoiceId = payment.InvoiceId;
        CustomerId = payment.CustomerId;
        Gateway = payment.Gateway;
        ChargeReference = payment.GatewayReference ?? throw new DomainRuleException("The payment has no gateway reference to refund.");
        _amount = amount.Amount;
        Currency = amount.Currency;
        Reason = reason;
        Memo = memo;
        RequestedBy = requestedBy;
        CreatedAt = at;
        IdempotencyKey = $"refund_{Id:N}";
        Status = RefundStatus.Pending;
    }

    public Guid PaymentAttemptId { get; private set; }
    public Guid InvoiceId { get; private set; }
    public Guid CustomerId { get; private set; }
    public string Gateway { get; private set; } = string.Empty;
    public string ChargeReference { get; private set; } = string.Empty;
    public string IdempotencyKey { get; private set; } = string.Empty;
    public string Currency { get; private set; } = "USD";
    public Money Amount => new(_amount, Currency);
    public CreditReason Reason { get; private set; }
    public string? Memo { get; private set; }
    public string RequestedBy { get; private set; } = string.Empty;
    public RefundStatus Status { get; private set; }
    public string? GatewayReference { get; private set; }
    public string? FailureMessage { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset? CompletedAt { get; private set; }

    /// <summary>The gateway took the refund in but reports its outcome later; the reference lets its report find this refund.</summary>
    public void Acknowledge(string? gatewayReference)
    {
        if (Status != RefundStatus.Pending) throw new DomainRuleException("Only a pending refund waits for the gateway.");
        GatewayReference = gatewayReference;
    }

    public void Succeed(string? gatewayReference, DateTimeOffset at)
    {
        Status = Lifecycle.Fire(Status, RefundEvent.Succeeded);
        GatewayReference = gatewayReference;
        CompletedAt = at;
    }

    public void Fail(string? gatewayReference, string message, DateTimeOffset at)
    {
        Status = Lifecycle.Fire(Status, RefundEvent.Failed);
        GatewayReference = gatewayReference;
        FailureMessage = message;
        CompletedAt = at;
    }
}
