using BillingConsole.Engine.Dunning;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>Runs one bulk retry started from the dunning queue.</summary>
public sealed class BulkRetryJob(BulkRetryService bulkRetries)
{
    public const string Queue = "dunning_retry";

    // It charges cards: a failed run is not repeated blindly; rerunning it by hand charges only the items not yet taken.
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(Guid bulkRetryId, CancellationToken ct) => bulkRetries.RunAsync(bulkRetryId, ct);
}
