using BillingConsole.Engine.Billing;
using BillingConsole.Engine;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Jobs;

/// <summary>One chunk of a billing run: invoices its due subscriptions, then charges the new invoices. Reentrant.</summary>
public sealed class BillingChunkJob(BillingChunkProcessor processor, IServiceScopeFactory scopes, IBackgroundWork background)
{
    public const string Queue = "billing";

    // It charges cards: a failed chunk is not retried blindly (dunning owns retries); the next run picks up what is still due.
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid runId, int chunkNumber, CancellationToken ct)
    {
        ChunkOutcome outcome;
        try
        {
            outcome = await processor.RunAsync(runId, chunkNumber, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A fresh scope: the chunk's own connection may be the thing that broke.
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<BillingRunService>().FailAsync(runId, $"Chunk {chunkNumber}: {e.Message}", CancellationToken.None);
            throw;
        }
        // The gateway's circuit breaker paused charging: the chunk charges what it holds once the breaker lets a trial through.
        if (outcome.DeferredUntil is { } at)
            background.ScheduleBillingChunk(runId, chunkNumber, at);
    }
}
