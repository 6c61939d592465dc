using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Billing;

public enum BillingRunStatus { Running, Completed, Failed }

/// <summary>One execution of the billing cycle: which subscriptions were due and how far the work has come.</summary>
/// <remarks>
/// The counters are advanced by the chunks with atomic SQL increments (many chunks finish at once, on several nodes),
/// so this entity only plans, completes and fails a run.
/// </remarks>
public sealed class BillingRun : Entity
{
    private BillingRun() { }

    public BillingRun(DateTimeOffset asOf, string trigger, string startedBy, DateTimeOffset startedAt, Guid? testClockId = null)
    {
        AsOf = asOf;
        TestClockId = testClockId;
        Trigger = trigger;
        StartedBy = startedBy;
        StartedAt = startedAt;
        Status = BillingRunStatus.Running;
    }

    /// <summary>Subscriptions whose period ended at or before this instant are due.</summary>
    public DateTimeOffset AsOf { get; private set; }
    public string Trigger { get; private set; } = string.Empty;
    /// <summary>The test clock whose customers the run bills, in the clock's time; null for a run over the real customers.</summary>
    public Guid? TestClockId { get; private set; }
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

    /// <summary>Records how the due subscriptions were split. A run with nothing due is complete at once.</summary>
    public void Plan(int dueCount, int chunkCount, DateTimeOffset at)
    {
        EnsureRunning();
        if (ChunkCount > 0) throw new DomainRuleException("The run was already split into chunks.");
        if (dueCount < 0 || chunkCount < 0 || (dueCount > 0) != (chunkCount > 0))
            throw new DomainRuleException("A run with due subscriptions has chunks, and one without has none.");
        DueCount = dueCount;
        ChunkCount = chunkCount;
        if (chunkCount == 0) Complete(at);
    }

    public void Complete(DateTimeOffset at)
    {
        EnsureRunning();
        Status = BillingRunStatus.Completed;
        FinishedAt = at;
    }

    /// <summary>A chunk failed: the run stops counting as running, so the next run can start and pick up what is still due.</summary>
    public void Fail(string error, DateTimeOffset at)
    {
        EnsureRunning();
        Status = BillingRunStatus.Failed;
        Error = error.Length > 2000 ? error[..2000] : error;
        FinishedAt = at;
    }

    private void EnsureRunning()
    {
        if (Status != BillingRunStatus.Running) throw new DomainRuleException($"The billing run is already {Status.ToSnakeCase()}.");
    }
}

/// <summary>
/// A slice of a run's due subscriptions, processed by one job in one transaction. Its subscription ids are fixed when the
/// run is planned, so a rerun of the chunk finds the same invoices to charge; the two timestamps make its counts add once.
/// </summary>
public sealed class BillingRunChunk
{
    private BillingRunChunk() { }

    public BillingRunChunk(Guid runId, int number, Guid[] subscriptionIds)
    {
        if (number < 1) throw new DomainRuleException("Chunk numbers start at 1.");
        if (subscriptionIds.Length == 0) throw new DomainRuleException("A chunk holds at least one subscription.");
        RunId = runId;
        Number = number;
        SubscriptionIds = subscriptionIds;
    }

    public Guid RunId { get; private set; }
    public int Number { get; private set; }
    public Guid[] SubscriptionIds { get; private set; } = [];
    public int InvoicedCount { get; private set; }
    public int ChargedCount { get; private set; }
    public int FailedCount { get; private set; }
    public DateTimeOffset? InvoicedAt { get; private set; }
    public DateTimeOffset? ChargedAt { get; private set; }
}
