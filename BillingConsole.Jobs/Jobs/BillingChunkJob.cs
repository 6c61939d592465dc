using BillingConsole.Engine.Billing;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>One chunk of a billing run: invoices its due subscriptions, then charges the new invoices. Reentrant.</summary>
public sealed class BillingChunkJob(BillingChunkProcessor processor, BillingRunService runs)
{
    public const string Queue = "billing";

    // It charges cards: a failed chunk is not retried blindly (dunning owns retries); the next run picks up what is still due.
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid runId, int chunkNumber, CancellationToken ct)
    {
        try
        {
            await processor.RunAsync(runId, chunkNumber, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await runs.FailAsync(runId, $"Chunk {chunkNumber}: {e.Message}", CancellationToken.None);
            throw;
        }
    }
}
