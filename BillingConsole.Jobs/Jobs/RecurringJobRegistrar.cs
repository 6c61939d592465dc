using Hangfire;
using Microsoft.Extensions.Hosting;

namespace BillingConsole.Jobs;

/// <summary>Registers (or updates) the recurring jobs when a node starts. Every node does it; the registration is idempotent.</summary>
internal sealed class RecurringJobRegistrar(IRecurringJobManager recurringJobs) : IHostedService
{
    public const string DashboardRefresh = "dashboard-refresh";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        recurringJobs.AddOrUpdate<DashboardRefreshJob>(DashboardRefresh, "default", job => job.RunAsync(CancellationToken.None), "* * * * *");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
