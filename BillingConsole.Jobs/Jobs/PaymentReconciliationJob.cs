using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>
/// Every minute, asks the gateway about attempts whose outcome is still unknown, and sends again the refunds that got no answer.
/// Nodes running it at once are harmless.
/// </summary>
public sealed class PaymentReconciliationJob(PaymentReconciler reconciler, RefundCommands refunds)
{
    // Looking up is safe to repeat, but the next minute's run does that anyway.
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(CancellationToken ct)
    {
        await reconciler.RunAsync(ct);
        await refunds.ReconcileAsync(ct);
    }
}
