using BillingConsole.Engine.Dunning;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>Every minute, takes the escalation steps that have come due. Nodes running it at once share the cases.</summary>
public sealed class DunningLadderJob(DunningLadder ladder)
{
    // Its final action writes off invoices and cancels subscriptions: a failed run is not repeated blindly; the next
    // minute's run takes whatever is still due.
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(CancellationToken ct) => ladder.RunDueAsync(ct);
}
