using BillingConsole.Engine.Dunning;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>Every minute, makes the dunning retries that are due. Nodes running it at once share the due cases.</summary>
public sealed class DunningRetryJob(DunningRetryRunner runner)
{
    public const string Queue = "dunning_retry";

    // It charges cards: a failed run is not repeated blindly; the next minute's run picks up whatever is still due.
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(CancellationToken ct) => runner.RunDueAsync(ct);
}
