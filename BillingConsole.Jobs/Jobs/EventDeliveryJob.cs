using BillingConsole.Engine.Events;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>Every minute, posts the pending outgoing events that are due. Nodes running it at once share the rows.</summary>
public sealed class EventDeliveryJob(EventSender sender)
{
    // A failed delivery is recorded on its row and tried again by the row's own backoff, not by re-running the job.
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(CancellationToken ct) => sender.RunDueAsync(ct);
}
