using BillingConsole.Engine.Notifications;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>Every minute, sends the pending customer emails that are due. Nodes running it at once share the rows.</summary>
public sealed class NotificationDeliveryJob(NotificationDelivery delivery)
{
    // A failed send is recorded on its row and tried again by the row's own backoff, not by re-running the job.
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(CancellationToken ct) => delivery.RunDueAsync(ct);
}
