using BillingConsole.Engine.Payments;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>Every minute, asks the gateway about attempts whose outcome is still unknown. Nodes running it at once are harmless.</summary>
public sealed class PaymentReconciliationJob(PaymentReconciler reconciler)
{
    // Looking up is safe to repeat, but the next minute's run does that anyway.
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(CancellationToken ct) => reconciler.RunAsync(ct);
}
