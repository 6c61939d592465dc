using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;

namespace BillingConsole.Persistence.DemoData;

// One type per table; CopyTable<T> writes a column from the property of the same name. What a customer's history changes
// as it is played (a card's behaviour, a subscription's status, an invoice's payment) is settable; the rest is positional.

internal sealed record CustomerRow(
    Guid Id, string Name, string Email, string Currency, string? ExternalRef, DateTime CreatedAt,
    string AddressLine1, string? AddressLine2, string AddressCity, string AddressPostalCode, string AddressCountry)
{
    /// <summary>Demo countries tax nationwide.</summary>
    public string? AddressRegion => null;
    public bool DunningPaused { get; set; }
    public decimal CreditBalance { get; set; }
    /// <summary>Every demo customer is charged automatically.</summary>
    public CollectionMethod CollectionMethod => CollectionMethod.ChargeAutomatically;
    public int? DaysUntilDue => null;
    /// <summary>Demo customers live in the billing time zone.</summary>
    public string? TimeZone => null;
    /// <summary>Demo customers have no tax number on file.</summary>
    public string? TaxId => null;
    /// <summary>Demo customers are on no test clock.</summary>
    public Guid? TestClockId => null;
}

internal sealed record PaymentMethodRow(Guid Id, Guid CustomerId, string TokenSuffix, string Brand, string Last4, DateTime CreatedAt)
{
    public string Gateway => DemoDataGenerator.Gateway;

    /// <summary>What the sandbox gateway does with this card now: "ok", a decline code, or "timeout". Spelled in the token.</summary>
    public string Behavior { get; set; } = "ok";

    public string Token => $"pm_{Behavior}_{TokenSuffix}";
    public int ExpMonth { get; set; }
    public int ExpYear { get; set; }
    public bool IsDefault { get; set; } = true;
    public DateTime? DetachedAt { get; set; }
}

internal sealed record SubscriptionRow(Guid Id, Guid CustomerId, DateTime CreatedAt, DemoPrice FirstPrice, int FirstQuantity)
{
    public DemoPrice Price { get; set; } = FirstPrice;
    public Guid PriceId => Price.Id;
    public int Quantity { get; set; } = FirstQuantity;
    /// <summary>The day of month periods keep: the day the first paid period started (billing time zone UTC in the demo).</summary>
    public int BillingAnchorDay { get; set; }
    public SubscriptionStatus Status { get; private set; }
    public DateTime CurrentPeriodStart { get; set; }
    public DateTime CurrentPeriodEnd { get; set; }
    public DateTime? TrialEnd { get; set; }
    public bool CancelAtPeriodEnd { get; set; }
    public DateTime? CanceledAt { get; private set; }
    public CancellationKind? CancellationKind { get; private set; }
    public DateTime? PausedAt { get; private set; }
    public DemoPrice? PendingPrice { get; set; }
    public Guid? PendingPriceId => PendingPrice?.Id;
    public int? PendingQuantity { get; set; }
    public bool PlanChangesBlocked { get; set; }

    /// <summary>Status and price from each instant on, oldest first.</summary>
    public List<(DateTime At, SubscriptionStatus Status, DemoPrice Price, int Quantity)> Timeline { get; } = [];

    public void Mark(DateTime at, SubscriptionStatus status)
    {
        Status = status;
        if (status == SubscriptionStatus.Paused) PausedAt = at;
        Timeline.Add((at, status, Price, Quantity));
    }

    public void Cancel(DateTime at, CancellationKind kind)
    {
        CanceledAt = at;
        CancellationKind = kind;
        CancelAtPeriodEnd = false;
        PendingPrice = null;
        PendingQuantity = null;
        Mark(at, SubscriptionStatus.Canceled);
    }
}

internal sealed record InvoiceRow(
    Guid Id, string Number, Guid CustomerId, Guid? SubscriptionId, InvoiceKind Kind, string Currency,
    DateTime PeriodStart, DateTime PeriodEnd, DateTime IssuedAt, Guid? BillingRunId,
    decimal Subtotal, decimal Tax, decimal Total, decimal CreditApplied)
{
    public InvoiceStatus Status { get; set; } = InvoiceStatus.Open;
    public DateTime CreatedAt => IssuedAt;
    public DateTime DueAt => IssuedAt;
    public DateTime? PaidAt { get; set; }
    public DateTime? VoidedAt { get; set; }
    public DateTime? MarkedUncollectibleAt { get; set; }
    public int AttemptCount { get; set; }
    public decimal AmountPaid { get; set; }
    public decimal AmountWrittenOff { get; set; }
    /// <summary>The demo history issues no credit notes.</summary>
    public decimal AmountCredited => 0m;
    /// <summary>No demo invoice is being charged: no charge claim.</summary>
    public Guid? ChargeClaimToken => null;
    public DateTime? ChargeClaimedUntil => null;
    /// <summary>Demo invoices are collected as their customers' are (only a one-off says otherwise).</summary>
    public CollectionMethod? CollectionMethod => null;

    /// <summary>What the customer owed at issue: total less credit.</summary>
    public decimal AmountPayable => Total - CreditApplied;

    /// <summary>The stored generated column amount_due, as PostgreSQL computes it.</summary>
    public decimal AmountDue => Status == InvoiceStatus.Open ? Math.Max(Total - CreditApplied - AmountPaid, 0m) : 0m;
}

internal sealed record InvoiceLineRow(
    Guid Id, Guid InvoiceId, InvoiceLineKind Kind, string Description, int Quantity, string Currency,
    DateTime PeriodStart, DateTime PeriodEnd, Guid? PriceId, decimal UnitAmount, decimal Amount, decimal TaxRate = 0m, decimal TaxAmount = 0m,
    string TaxCountry = "")
{
    public bool ReverseCharge => false;
    public string? TaxRegion => null;
}

internal sealed record PaymentAttemptRow(
    Guid Id, Guid InvoiceId, Guid CustomerId, Guid? PaymentMethodId, int AttemptNumber, string Currency,
    PaymentTrigger Trigger, PaymentAttemptStatus Status, string? DeclineCode, string? FailureMessage, string? GatewayReference,
    DateTime StartedAt, DateTime CompletedAt, int LatencyMs, decimal Amount)
{
    public string Gateway => DemoDataGenerator.Gateway;
    public string IdempotencyKey => PaymentAttempt.KeyFor(InvoiceId, AttemptNumber);
}

internal sealed record DunningCaseRow(
    Guid Id, Guid InvoiceId, Guid CustomerId, Guid? SubscriptionId, string Currency, decimal Amount, DateTime OpenedAt, DunningStatus Status)
{
    public int PolicyVersion => DemoWorld.PolicyVersion;
    public DunningStatus Status { get; set; } = Status;
    public DateTime UpdatedAt { get; set; } = OpenedAt;
    public DateTime? ClosedAt { get; set; }
    public int RetriesMade { get; set; }
    public string? LastDeclineCode { get; set; }
    public DateTime? NextAttemptAt { get; set; }
    public double? NextAttemptProbability { get; set; }
    public string? NextAttemptReason { get; set; }
    public int EscalationStep { get; set; }
    public string? FinalAction { get; set; }
}

internal sealed record BillingRunRow(
    Guid Id, DateTime AsOf, string Trigger, string StartedBy, string Status, DateTime StartedAt, DateTime FinishedAt,
    int DueCount, int ChunkCount, int ChunksDone, int InvoicedCount, int ChargedCount, int FailedCount, string? Error)
{
    /// <summary>Demo runs bill the customers without a test clock.</summary>
    public Guid? TestClockId => null;
}

