using BillingConsole.ReadModels;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>Keeps the dashboard snapshot current. Two nodes refreshing at once is harmless (last write wins).</summary>
public sealed class DashboardRefreshJob(DashboardRefresher refresher)
{
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public Task RunAsync(CancellationToken ct) => refresher.RefreshAsync(ct);
}
