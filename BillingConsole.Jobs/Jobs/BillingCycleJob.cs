using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>The scheduled billing run: starts a run (or finds the one running), which splits the due subscriptions into chunk jobs.</summary>
public sealed class BillingCycleJob(BillingRunService runs)
{
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(CancellationToken ct) => runs.StartAsync(Actor.System, BillingRunTriggers.Schedule, ct);
}
