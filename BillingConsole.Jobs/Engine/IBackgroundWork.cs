namespace BillingConsole.Engine;

/// <summary>
/// The work the engine hands to the background: named for what the engine wants done, so that the engine knows nothing of
/// the job runner that does it (Hangfire, implemented in Jobs/).
/// </summary>
public interface IBackgroundWork
{
    /// <summary>Bills and charges one chunk of a billing run as soon as a worker is free.</summary>
    void EnqueueBillingChunk(Guid runId, int chunkNumber);

    /// <summary>Bills and charges one chunk of a billing run at <paramref name="at"/> (the circuit breaker's next trial).</summary>
    void ScheduleBillingChunk(Guid runId, int chunkNumber, DateTimeOffset at);

    /// <summary>Charges the items of a bulk retry as soon as a worker is free.</summary>
    void EnqueueBulkRetry(Guid bulkRetryId);

    /// <summary>Goes on charging the items of a bulk retry at <paramref name="at"/>.</summary>
    void ScheduleBulkRetry(Guid bulkRetryId, DateTimeOffset at);

    /// <summary>Schedules the subscribers of a price migration onto its new price as soon as a worker is free.</summary>
    void EnqueuePriceMigration(Guid migrationId);

    /// <summary>Runs billing on this cron in this time zone from now on, on every node.</summary>
    void UpdateBillingCycleSchedule(string cron, string timeZone);
}
