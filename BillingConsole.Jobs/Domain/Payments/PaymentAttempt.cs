using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Payments;

/// <remarks>
/// <see cref="PaymentAttemptStatus.RefundDue"/>: the gateway took the money after the invoice was already settled (paid by
/// another attempt, or voided), so it is owed back to the customer.
/// </remarks>
public enum PaymentAttemptStatus { Pending, Succeeded, Failed, Unknown, RefundDue }

/// <remarks>
/// <see cref="PaymentAttemptEvent.SucceededOnSettledInvoice"/>: the gateway reports a success for an invoice that no longer
/// needs the money.
/// </remarks>
public enum PaymentAttemptEvent { Succeeded, Failed, TimedOut, SucceededOnSettledInvoice }

/// <summary>What started an attempt; shown to support and used by the retry statistics.</summary>
/// <remarks>AutoCollection: the first charge of an invoice issued outside a billing run (or left uncharged by one), made by
/// the auto-collection job once the collection delay has passed.</remarks>
public enum PaymentTrigger { BillingRun, DunningRetry, Manual, NewPaymentMethod, BulkRetry, AutoCollection }

/// <summary>
/// One charge of one invoice at the gateway. Its idempotency key is derived from (invoice, attempt number),
/// so asking the gateway again with the same key can never charge twice.
/// </summary>
public sealed class PaymentAttempt : Entity
{
    public static readonly StateMachine<PaymentAttemptStatus, PaymentAttemptEvent> Lifecycle = new(
        (PaymentAttemptStatus.Pending, PaymentAttemptEvent.Succeeded, PaymentAttemptStatus.Succeeded),
        (PaymentAttemptStatus.Pending, PaymentAttemptEvent.Failed, PaymentAttemptStatus.Failed),
        (PaymentAttemptStatus.Pending, PaymentAttemptEvent.TimedOut, PaymentAttemptStatus.Unknown),
        (PaymentAttemptStatus.Pending, PaymentAttemptEvent.SucceededOnSettledInvoice, PaymentAttemptStatus.RefundDue),
        (PaymentAttemptStatus.Unknown, PaymentAttemptEvent.Succeeded, PaymentAttemptStatus.Succeeded),
        (PaymentAttemptStatus.Unknown, PaymentAttemptEvent.Failed, PaymentAttemptStatus.Failed),
        (PaymentAttemptStatus.Unknown, PaymentAttemptEvent.SucceededOnSettledInvoice, PaymentAttemptStatus.RefundDue),
        // The gateway's word is final: a payment first reported failed may still complete (the customer authenticated it
        // afterwards), and then the money has moved.
        (PaymentAttemptStatus.Failed, PaymentAttemptEvent.Succeeded, PaymentAttemptStatus.Succeeded),
        (PaymentAttemptStatus.Failed, PaymentAttemptEvent.SucceededOnSettledInvoice, PaymentAttemptStatus.RefundDue));

    private decimal _amount;

    private PaymentAttempt() { }

    public PaymentAttempt(Guid invoiceId, Guid customerId, Guid? paymentMethodId, int attemptNumber, Money amount,
        string gateway, PaymentTrigger trigger, DateTimeOffset startedAt)
    {
        if (attemptNumber < 1) throw new DomainRuleException("Attempt numbers start at 1.");
        if (!amount.IsPositive) throw new DomainRuleException("A payment attempt must be for a positive amount.");
        InvoiceId = invoiceId;
        CustomerId = customerId;
        PaymentMethodId = paymentMethodId;
        AttemptNumber = attemptNumber;
        _amount = amount.Amount;
        Currency = amount.Currency;
        Gateway = gateway;
        Trigger = trigger;
        StartedAt = startedAt;
        IdempotencyKey = KeyFor(invoiceId, attemptNumber);
        Status = PaymentAttemptStatus.Pending;
    }

    public Guid InvoiceId { get; private set; }
    public Guid CustomerId { get; private set; }
    public Guid? PaymentMethodId { get; private set; }
    public int AttemptNumber { get; private set; }
    public string IdempotencyKey { get; private set; } = string.Empty;
    public string Currency { get; private set; } = "USD";
    public Money Amount => new(_amount, Currency);
    public string Gateway { get; private set; } = string.Empty;
    public PaymentTrigger Trigger { get; private set; }
    public PaymentAttemptStatus Status { get; private set; }
    public string? DeclineCode { get; private set; }
    public string? FailureMessage { get; private set; }
    public string? GatewayReference { get; private set; }
    public DateTimeOffset StartedAt { get; private set; }
    public DateTimeOffset? CompletedAt { get; private set; }
    public int? LatencyMs { get; private set; }

    public static string KeyFor(Guid invoiceId, int attemptNumber) => $"inv_{invoiceId:N}_att_{attemptNumber}";

    public void Succeed(string gatewayReference, DateTimeOffset at, int latencyMs) =>
        Receive(PaymentAttemptEvent.Succeeded, gatewayReference, at, latencyMs);

    /// <summary>The gateway took the money although the invoice was already settled: it is to be refunded.</summary>
    public void SucceedOnSettledInvoice(string gatewayReference, DateTimeOffset at, int latencyMs) =>
        Receive(PaymentAttemptEvent.SucceededOnSettledInvoice, gatewayReference, at, latencyMs);

    private void Receive(PaymentAttemptEvent on, string gatewayReference, DateTimeOffset at, int latencyMs)
    {
        Status = Lifecycle.Fire(Status, on);
        // A decline or timeout recorded before stays: it tells support why the payment took a second report to succeed.
        GatewayReference = gatewayReference;
        Complete(at, latencyMs);
    }

    public void Fail(string declineCode, string message, string? gatewayReference, DateTimeOffset at, int latencyMs)
    {
        Status = Lifecycle.Fire(Status, PaymentAttemptEvent.Failed);
        DeclineCode = declineCode;
        FailureMessage = message;
        GatewayReference = gatewayReference;
        Complete(at, latencyMs);
    }

    /// <summary>The gateway did not answer in time: we do not know whether money moved until it is reconciled.</summary>
    public void TimeOut(DateTimeOffset at, int latencyMs)
    {
        Status = Lifecycle.Fire(Status, PaymentAttemptEvent.TimedOut);
        DeclineCode = DeclineCodes.GatewayTimeout;
        FailureMessage = "The gateway did not answer in time (ERR_GATEWAY_TIMEOUT).";
        LatencyMs = latencyMs;
        CompletedAt = at;
    }

    private void Complete(DateTimeOffset at, int latencyMs)
    {
        CompletedAt = at;
        LatencyMs = latencyMs;
    }
}

/// <summary>Decline codes, spelled as Stripe spells them, and which ones are never worth retrying.</summary>
public static class DeclineCodes
{
    public const string InsufficientFunds = "insufficient_funds";
    public const string DoNotHonor = "do_not_honor";
    public const string TryAgainLater = "try_again_later";
    public const string ExpiredCard = "expired_card";
    public const string LostCard = "lost_card";
    public const string StolenCard = "stolen_card";
    public const string Fraudulent = "fraudulent";
    public const string AccountClosed = "account_closed";
    public const string GatewayTimeout = "ERR_GATEWAY_TIMEOUT";
    public const string GenericDecline = "generic_decline";
    public const string NoPaymentMethod = "no_payment_method";
    /// <summary>The bank wants the customer to authenticate the payment (3-D Secure): the customer confirms it, no retry can.</summary>
    public const string AuthenticationRequired = "authentication_required";

    /// <summary>Hard declines by default: retrying the same card cannot succeed; the customer needs a new one.</summary>
    public static readonly IReadOnlyList<string> DefaultHard = [LostCard, StolenCard, Fraudulent, AccountClosed, ExpiredCard, NoPaymentMethod];

    public static readonly IReadOnlyList<string> All =
        [InsufficientFunds, DoNotHonor, TryAgainLater, ExpiredCard, LostCard, StolenCard, Fraudulent, AccountClosed, GenericDecline, NoPaymentMethod, AuthenticationRequired];
}
