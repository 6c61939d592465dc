using BillingConsole.Engine;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>The engine's background work as Hangfire jobs on their queues.</summary>
public sealed class HangfireBackgroundWork(IBackgroundJobClient jobs, IRecurringJobManager recurringJobs) : IBackgroundWork
{
    public void EnqueueBillingChunk(Guid runId, int chunkNumber) =>
        jobs.Enqueue<BillingChunkJob>(BillingChunkJob.Queue, job => job.RunAsync(runId, chunkNumber, CancellationToken.None));

    public void ScheduleBillingChunk(Guid runId, int chunkNumber, DateTimeOffset at) =>
        jobs.Schedule<BillingChunkJob>(BillingChunkJob.Queue, job => job.RunAsync(runId, chunkNumber, CancellationToken.None), at);

    public void EnqueueBulkRetry(Guid bulkRetryId) =>
        jobs.Enqueue<BulkRetryJob>(BulkRetryJob.Queue, job => job.RunAsync(bulkRetryId, CancellationToken.None));

    public void ScheduleBulkRetry(Guid bulkRetryId, DateTimeOffset at) =>
        jobs.Schedule<BulkRetryJob>(BulkRetryJob.Queue, job => job.RunAsync(bulkRetryId, CancellationToken.None), at);

    public void EnqueuePriceMigration(Guid migrationId) =>
        jobs.Enqueue<PriceMigrationJob>(PriceMigrationJob.Queue, job => job.RunAsync(migrationId, CancellationToken.None));

    public void UpdateBillingCycleSchedule(string cron, string timeZone) =>
        RecurringJobRegistrar.ScheduleBillingCycle(recurringJobs, cron, timeZone);
}
