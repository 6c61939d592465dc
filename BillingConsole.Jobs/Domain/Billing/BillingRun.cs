using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Billing;

public enum BillingRunStatus { Running, Completed, Failed }

/// <summary>One execution of the billing cycle: which subscriptions were due and how far the work has come.</summary>
public sealed class BillingRun : Entity
{
    private BillingRun() { }

    public BillingRun(DateTimeOffset asOf, string trigger, string startedBy, DateTimeOffset startedAt)
    {
        AsOf = asOf;
        Trigger = trigger;
        StartedBy = startedBy;
        StartedAt = startedAt;
        Status = BillingRunStatus.Running;
    }

    /// <summary>Subscriptions whose period ended at or before this instant are due.</summary>
    public DateTimeOffset AsOf { get; private set; }
    public string Trigger { get; private set; } = string.Empty;
    public string StartedBy { get; private set; } = string.Empty;
    public BillingRunStatus Status { get; private set; }
    public DateTimeOffset StartedAt { get; private set; }
    public DateTimeOffset? FinishedAt { get; private set; }
    public int DueCount { get; private set; }
    public int ChunkCount { get; private set; }
    public int ChunksDone { get; private set; }
    public int InvoicedCount { get; private set; }
    public int ChargedCount { get; private set; }
    public int FailedCount { get; private set; }
    public string? Error { get; private set; }
}
