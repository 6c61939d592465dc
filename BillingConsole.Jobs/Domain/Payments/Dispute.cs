using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Payments;

/// <summary>
/// A dispute's status as Stripe names it. The warning_ ones are inquiries: the bank asks, no money has moved yet. Won, lost,
/// warning_closed and prevented are final.
/// </summary>
public enum DisputeStatus { WarningNeedsResponse, WarningUnderReview, WarningClosed, NeedsResponse, UnderReview, Won, Lost, Prevented }

/// <summary>
/// A chargeback the customer's bank opened on a successful payment, as the gateway reports it. The disputed amount and the
/// gateway's fee leave the balance once it is a dispute proper (not an inquiry); the amount comes back when it is won.
/// </summary>
public sealed class Dispute : Entity
{
    private decimal _amount;
    private decimal _fee;

    private Dispute() { }

    public Dispute(string gatewayDisputeId, PaymentAttempt payment, DateTimeOffset at)
    {
        if (payment.Status != PaymentAttemptStatus.Succeeded) throw new DomainRuleException("Only a successful payment can be disputed.");
        GatewayDisputeId = gatewayDisputeId;
        PaymentAttemptId = payment.Id;
        InvoiceId = payment.InvoiceId;
        CustomerId = payment.CustomerId;
        Currency = payment.Currency;
        _amount = payment.Amount.Amount;
        Status = DisputeStatus.WarningNeedsResponse;
        CreatedAt = at;
        UpdatedAt = at;
    }

    public string GatewayDisputeId { get; private set; } = string.Empty;
    public Guid PaymentAttemptId { get; private set; }
    public Guid InvoiceId { get; private set; }
    public Guid CustomerId { get; private set; }
    public string Currency { get; private set; } = "USD";
    public Money Amount => new(_amount, Currency);
    public Money Fee => new(_fee, Currency);
    public string Reason { get; private set; } = string.Empty;
    public DisputeStatus Status { get; private set; }
    public DateTimeOffset? EvidenceDueBy { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset UpdatedAt { get; private set; }
    public DateTimeOffset? ClosedAt { get; private set; }
    /// <summary>When the amount and the fee left the balance (the ledger's chargeback); null while it is an inquiry.</summary>
    public DateTimeOffset? FundsWithdrawnAt { get; private set; }
    /// <summary>When a won dispute's amount came back.</summary>
    public DateTimeOffset? FundsReinstatedAt { get; private set; }

    public static bool IsFinal(DisputeStatus status) =>
        status is DisputeStatus.Won or DisputeStatus.Lost or DisputeStatus.WarningClosed or DisputeStatus.Prevented;

    private static bool WithdrawsFunds(DisputeStatus status) =>
        status is DisputeStatus.NeedsResponse or DisputeStatus.UnderReview or DisputeStatus.Won or DisputeStatus.Lost;

    /// <summary>
    /// Takes the gateway's latest word. Returns what it moved: the chargeback the first time funds are withdrawn, the reversal when
    /// won. A report about a closed dispute changes nothing; the amount cannot exceed the payment.
    /// </summary>
    public DisputeMovement Report(DisputeStatus status, Money amount, Money fee, string reason, DateTimeOffset? evidenceDueBy, DateTimeOffset at)
    {
        if (IsFinal(Status)) return DisputeMovement.None;
        if (amount.Currency != Currency || !amount.IsPositive || amount.Amount > _amount)
            throw new DomainRuleException("A dispute is for a positive amount no larger than the payment, in its currency.");
        if (fee.IsNegative) throw new DomainRuleException("A dispute fee is not negative.");
        _amount = amount.Amount;
        Reason = reason;
        Status = status;
        EvidenceDueBy = evidenceDueBy;
        UpdatedAt = at;
        var withdrawn = false;
        if (FundsWithdrawnAt is null && WithdrawsFunds(status))
        {
            _fee = fee.Amount;
            FundsWithdrawnAt = at;
            withdrawn = true;
        }
        var reinstated = status == DisputeStatus.Won && FundsWithdrawnAt is not null;
        if (reinstated) FundsReinstatedAt = at;
        if (IsFinal(status)) ClosedAt = at;
        return new DisputeMovement(withdrawn, reinstated);
    }
}

/// <summary>What one report moved: the chargeback and fee withdrawn, the amount reinstated (won).</summary>
public sealed record DisputeMovement(bool Withdrawn, bool Reinstated)
{
    public static readonly DisputeMovement None = new(false, false);
}
