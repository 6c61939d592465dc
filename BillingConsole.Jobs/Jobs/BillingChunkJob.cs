using BillingConsole.Engine.Billing;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Jobs;

/// <summary>One chunk of a billing run: invoices its due subscriptions, then charges the new invoices. Reentrant.</summary>
public sealed class BillingChunkJob(BillingChunkProcessor processor, IServiceScopeFactory scopes)
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
            // A fresh scope: the chunk's own connection may be the thing that broke.
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<BillingRunService>().FailAsync(runId, $"Chunk {chunkNumber}: {e.Message}", CancellationToken.None);
            throw;
        }
    }
}
