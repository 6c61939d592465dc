using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;

namespace BillingConsole.Persistence.DemoData;

// Plain rows, one per table row, written by binary COPY. Mutable while a customer's history is simulated.

internal sealed class CustomerRow
{
    public Guid Id { get; init; }
    public string Name { get; set; } = string.Empty;
    public string Email { get; set; } = string.Empty;
    public string Currency { get; init; } = "USD";
    public string? ExternalRef { get; set; }
    public DateTime CreatedAt { get; init; }
    public bool DunningPaused { get; set; }
    public decimal CreditBalance { get; set; }
    public string Line1 { get; set; } = string.Empty;
    public string? Line2 { get; set; }
    public string City { get; set; } = string.Empty;
    public string PostalCode { get; set; } = string.Empty;
    public string Country { get; init; } = string.Empty;
}

internal sealed class PaymentMethodRow
{
    public Guid Id { get; init; }
    public Guid CustomerId { get; init; }
    /// <summary>What the sandbox gateway does with this card now: "ok", a decline code, or "timeout". Spelled in the token.</summary>
    public string Behavior { get; set; } = "ok";
    public string TokenSuffix { get; init; } = string.Empty;
    public string Brand { get; init; } = "visa";
    public string Last4 { get; init; } = "0000";
    public int ExpMonth { get; set; }
    public int ExpYear { get; set; }
    public bool IsDefault { get; set; }
    public DateTime CreatedAt { get; init; }
    public DateTime? DetachedAt { get; set; }

    public string Token => $"pm_{Behavior}_{TokenSuffix}";
}

internal sealed class SubscriptionRow
{
    public Guid Id { get; init; }
    public Guid CustomerId { get; init; }
    public DemoPrice Price { get; set; } = null!;
    public int Quantity { get; set; }
    public SubscriptionStatus Status { get; set; }
    public DateTime CreatedAt { get; init; }
    public DateTime CurrentPeriodStart { get; set; }
    public DateTime CurrentPeriodEnd { get; set; }
    public DateTime? TrialEnd { get; set; }
    public bool CancelAtPeriodEnd { get; set; }
    public DateTime? CanceledAt { get; set; }
    public CancellationKind? CancellationKind { get; set; }
    public DateTime? PausedAt { get; set; }
    public DemoPrice? PendingPrice { get; set; }
    public int? PendingQuantity { get; set; }
    public bool PlanChangesBlocked { get; set; }

    /// <summary>Status and price from each instant on, oldest first: what MRR snapshots are computed from.</summary>
    public List<(DateTime At, SubscriptionStatus Status, DemoPrice Price, int Quantity)> Timeline { get; } = [];

    public void Mark(DateTime at, SubscriptionStatus status)
    {
        Status = status;
        Timeline.Add((at, status, Price, Quantity));
    }
}

internal sealed class InvoiceRow
{
    public Guid Id { get; init; }
    public string Number { get; init; } = string.Empty;
    public Guid CustomerId { get; init; }
    public Guid? SubscriptionId { get; init; }
    public InvoiceKind Kind { get; init; }
    public InvoiceStatus Status { get; set; } = InvoiceStatus.Open;
    public string Currency { get; init; } = "USD";
    public DateTime PeriodStart { get; init; }
    public DateTime PeriodEnd { get; init; }
    public DateTime IssuedAt { get; init; }
    public DateTime? PaidAt { get; set; }
    public DateTime? VoidedAt { get; set; }
    public DateTime? MarkedUncollectibleAt { get; set; }
    public Guid? BillingRunId { get; init; }
    public int AttemptCount { get; set; }
    public decimal Subtotal { get; init; }
    public decimal Tax { get; init; }
    public decimal Total { get; init; }
    public decimal CreditApplied { get; init; }
    public decimal AmountPaid { get; set; }
    public decimal AmountWrittenOff { get; set; }

    /// <summary>What the customer owed at issue: total less credit.</summary>
    public decimal AmountPayable => Total - CreditApplied;

    /// <summary>The stored generated column amount_due, as PostgreSQL computes it.</summary>
    public decimal AmountDue => Status == InvoiceStatus.Open ? Math.Max(Total - CreditApplied - AmountPaid, 0m) : 0m;
}

internal sealed class InvoiceLineRow
{
    public Guid Id { get; init; }
    public Guid InvoiceId { get; init; }
    public InvoiceLineKind Kind { get; init; }
    public string Description { get; init; } = string.Empty;
    public int Quantity { get; init; }
    public string Currency { get; init; } = "USD";
    public DateTime PeriodStart { get; init; }
    public DateTime PeriodEnd { get; init; }
    public Guid? PriceId { get; init; }
    public decimal UnitAmount { get; init; }
    public decimal Amount { get; init; }
}

internal sealed class PaymentAttemptRow
{
    public Guid Id { get; init; }
    public Guid InvoiceId { get; init; }
    public Guid CustomerId { get; init; }
    public Guid? PaymentMethodId { get; init; }
    public int AttemptNumber { get; init; }
    public string Currency { get; init; } = "USD";
    public PaymentTrigger Trigger { get; init; }
    public PaymentAttemptStatus Status { get; init; }
    public string? DeclineCode { get; init; }
    public string? FailureMessage { get; init; }
    public string? GatewayReference { get; init; }
    public DateTime StartedAt { get; init; }
    public DateTime CompletedAt { get; init; }
    public int LatencyMs { get; init; }
    public decimal Amount { get; init; }

    public string IdempotencyKey => PaymentAttempt.KeyFor(InvoiceId, AttemptNumber);
}

internal sealed class DunningCaseRow
{
    public Guid Id { get; init; }
    public Guid InvoiceId { get; init; }
    public Guid CustomerId { get; init; }
    public Guid? SubscriptionId { get; init; }
    public string Currency { get; init; } = "USD";
    public decimal Amount { get; init; }
    public DunningStatus Status { get; set; }
    public DateTime OpenedAt { get; init; }
    public DateTime UpdatedAt { get; set; }
    public DateTime? ClosedAt { get; set; }
    public int RetriesMade { get; set; }
    public string? LastDeclineCode { get; set; }
    public DateTime? NextAttemptAt { get; set; }
    public double? NextAttemptProbability { get; set; }
    public string? NextAttemptReason { get; set; }
    public int EscalationStep { get; set; }
    public string? FinalAction { get; set; }
}
