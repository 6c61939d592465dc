namespace BillingConsole.Persistence;

// Rows that belong to the machinery rather than the billing domain. They are written with plain SQL
// (INSERT … ON CONFLICT) where uniqueness is the point, so they carry no behaviour of their own.

/// <summary>A caller-supplied idempotency key, the fingerprint of the request it came with, and the stored answer.</summary>
public sealed class IdempotencyRecord
{
    public Guid Key { get; set; }
    public string Operation { get; set; } = string.Empty;
    public string RequestHash { get; set; } = string.Empty;
    public string Status { get; set; } = "in_progress";
    public int? ResponseStatus { get; set; }
    public string? ResponseBody { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
}

/// <summary>A gateway webhook event that was accepted, kept so that a redelivery is recognised.</summary>
public sealed class WebhookEvent
{
    public string Gateway { get; set; } = string.Empty;
    public string EventId { get; set; } = string.Empty;
    public string Type { get; set; } = string.Empty;
    public DateTimeOffset ReceivedAt { get; set; }
    public DateTimeOffset? ProcessedAt { get; set; }
    public string Payload { get; set; } = "{}";
}

/// <summary>A webhook that was refused (bad signature, stale timestamp, address not allowed), for the Operations page.</summary>
public sealed class WebhookRejection
{
    public long Id { get; set; }
    public string Gateway { get; set; } = string.Empty;
    public string Reason { get; set; } = string.Empty;
    public string? RemoteAddress { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>One named setting (billing schedule, tax rate, …) as JSON, with who changed it last.</summary>
public sealed class SettingRecord
{
    public string Key { get; set; } = string.Empty;
    public string Value { get; set; } = "{}";
    public DateTimeOffset UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = string.Empty;
}

public sealed class CustomerNote
{
    public long Id { get; set; }
    public Guid CustomerId { get; set; }
    public string Author { get; set; } = string.Empty;
    public string Body { get; set; } = string.Empty;
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>An upstream system's API key: only its SHA-256 hash is stored; the prefix identifies it in logs.</summary>
public sealed class ApiKeyRecord
{
    public Guid Id { get; set; }
    public string Name { get; set; } = string.Empty;
    public string Prefix { get; set; } = string.Empty;
    public byte[] Hash { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>
/// The MRR of one currency and plan at the end of a UTC day (or at the last recording of today), written by
/// <see cref="MrrRecorder"/>: what the dashboard's MRR chart reads, so it never scans subscriptions. See docs/analytics.md.
/// </summary>
public sealed class MrrSnapshot
{
    public DateOnly Day { get; set; }
    public string Currency { get; set; } = "USD";
    public Guid PlanId { get; set; }
    public decimal Mrr { get; set; }
    /// <summary>Subscriptions that count towards <see cref="Mrr"/>.</summary>
    public int Subscriptions { get; set; }
    public DateTimeOffset ComputedAt { get; set; }
}

/// <summary>
/// One change of a subscription's MRR (new, expansion, contraction, churn voluntary or involuntary, reactivation), as a
/// signed amount: the movements of a period add up to the change of MRR over it.
/// </summary>
public sealed class MrrMovement
{
    public long Id { get; set; }
    public DateOnly Day { get; set; }
    public DateTimeOffset At { get; set; }
    public Guid SubscriptionId { get; set; }
    public Guid CustomerId { get; set; }
    public string Currency { get; set; } = "USD";
    public Guid PlanId { get; set; }
    public string Kind { get; set; } = string.Empty;
    public decimal Amount { get; set; }
}

/// <summary>The MRR each subscription had when it was last recorded: what the next recording compares with.</summary>
public sealed class MrrSubscriptionState
{
    public Guid SubscriptionId { get; set; }
    public Guid CustomerId { get; set; }
    public string Currency { get; set; } = "USD";
    public Guid PlanId { get; set; }
    public decimal Mrr { get; set; }
    /// <summary>It has counted towards MRR before: its next rise from zero is a reactivation, not new.</summary>
    public bool Contributed { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// One cell of the cohort table, rewritten by each MRR recording: of the customers whose first MRR in the currency began in
/// <see cref="Cohort"/>, how many had MRR at the end of <see cref="Month"/> (or now, for the current month) and how much.
/// </summary>
public sealed class MrrCohortCell
{
    public string Currency { get; set; } = "USD";
    public DateOnly Cohort { get; set; }
    public DateOnly Month { get; set; }
    public int Customers { get; set; }
    public int Retained { get; set; }
    public decimal Mrr { get; set; }
    public DateTimeOffset ComputedAt { get; set; }
}

/// <summary>
/// What the invoices folded so far change in revenue recognition within one span of one currency (docs/analytics.md,
/// "Deferred revenue"), kept for quarter hours and for whole days (UTC): invoiced and recognised revenue at an instant T
/// are Σ <see cref="Invoiced"/> and Σ <see cref="Constant"/> + T × Σ <see cref="Slope"/> over the spans before T.
/// </summary>
public sealed class RevenueRecognitionSum
{
    /// <summary>The span's width: 900 (a quarter hour) or 86,400 (a day).</summary>
    public int Seconds { get; set; }
    /// <summary>Seconds since 1970-01-01 UTC divided by <see cref="Seconds"/>, rounded down.</summary>
    public long Start { get; set; }
    public string Currency { get; set; } = "USD";
    public decimal Invoiced { get; set; }
    public decimal Constant { get; set; }
    /// <summary>Revenue recognised per second from here on.</summary>
    public decimal Slope { get; set; }
}

/// <summary>
/// Who charges an invoice now, and until when (<see cref="ChargeClaims"/>): a row of its own rather than columns on the invoice,
/// so that taking and releasing a claim leave the invoice row, its many indexes and its page's free space alone.
/// </summary>
public sealed class InvoiceChargeClaim
{
    public Guid InvoiceId { get; set; }
    public Guid Token { get; set; }
    public DateTimeOffset ClaimedUntil { get; set; }
}

/// <summary>
/// An invoice line whose invoice was issued or voided since revenue recognition last folded it in, with what the fold and
/// the live figures read of it, written by triggers on <c>invoices</c> and <c>invoice_lines</c>.
/// </summary>
public sealed class RevenueRecognitionPendingLine
{
    public Guid LineId { get; set; }
    /// <summary><c>issued</c> or <c>voided</c>: the change to fold in.</summary>
    public string Kind { get; set; } = "issued";
    public Guid InvoiceId { get; set; }
    /// <summary>When the invoice was issued or voided.</summary>
    public DateTimeOffset ChangedAt { get; set; }
    public string Currency { get; set; } = "";
    public decimal Amount { get; set; }
    public DateTimeOffset PeriodStart { get; set; }
    public DateTimeOffset PeriodEnd { get; set; }
}

/// <summary>What the recovery analytics read of one dunning case, kept by <see cref="DunningCaseFactsRecorder"/>.</summary>
public sealed class DunningCaseFact
{
    public Guid CaseId { get; set; }
    public DateTimeOffset OpenedAt { get; set; }
    public string Status { get; set; } = "";
    public string Currency { get; set; } = "USD";
    public decimal Amount { get; set; }
    /// <summary>From the opening to the closing, in days; null while open.</summary>
    public double? DaysToClose { get; set; }
    public string OpeningDeclineCode { get; set; } = "unknown";
    /// <summary>Dunning retries made within the case that ended, succeeded or failed.</summary>
    public int Retries { get; set; }
    /// <summary>The number of the retry that succeeded (1 is the first), if one did.</summary>
    public int? SucceededRetry { get; set; }
}

/// <summary>A dunning case changed since its facts were last computed, written by a trigger on <c>dunning_cases</c>.</summary>
public sealed class DunningCaseFactsPending
{
    public long Id { get; set; }
    public Guid CaseId { get; set; }
}

/// <summary>The current dashboard figures as JSON (one row), written by the dashboard refresh job.</summary>
public sealed class DashboardSnapshotRecord
{
    public int Id { get; set; }
    public DateTimeOffset ComputedAt { get; set; }
    public string Figures { get; set; } = "{}";
}

/// <summary>
/// A support agent's "retry all these" over the dunning queue. Its id is the idempotency key of the selection (the cases and
/// the day), so starting the same selection again finds this row instead of charging anyone a second time.
/// </summary>
public sealed class BulkRetry
{
    public Guid Id { get; set; }
    public string RequestedBy { get; set; } = string.Empty;
    public string? RequestedByRole { get; set; }
    public string Reason { get; set; } = string.Empty;
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

/// <summary>One invoice of a bulk retry; <see cref="Outcome"/> is set ("charging") before the charge, so it is never charged twice.</summary>
public sealed class BulkRetryItem
{
    public Guid BulkRetryId { get; set; }
    public Guid DunningCaseId { get; set; }
    public Guid InvoiceId { get; set; }
    public decimal Amount { get; set; }
    public string Currency { get; set; } = "USD";
    public string? Outcome { get; set; }
    public string? DeclineCode { get; set; }
}
