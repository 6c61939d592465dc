using BillingConsole.Configuration;
using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BillingConsole.Jobs;

/// <summary>Registers (or updates) the recurring jobs when a node starts. Every node does it; the registration is idempotent.</summary>
internal sealed class RecurringJobRegistrar(IRecurringJobManager recurringJobs, IOptionsMonitor<BillingOptions> billing) : IHostedService
{
    public const string DashboardRefresh = "dashboard-refresh";
    public const string BillingCycle = "billing-cycle";
    public const string DunningRetry = "dunning-retry";
    public const string PaymentReconciliation = "payment-reconciliation";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        recurringJobs.AddOrUpdate<DashboardRefreshJob>(DashboardRefresh, "default", job => job.RunAsync(CancellationToken.None), "* * * * *");
        ScheduleBillingCycle(recurringJobs, billing.CurrentValue);
        recurringJobs.AddOrUpdate<DunningRetryJob>(DunningRetry, DunningRetryJob.Queue, job => job.RunAsync(CancellationToken.None), "* * * * *");
        recurringJobs.AddOrUpdate<PaymentReconciliationJob>(PaymentReconciliation, "default", job => job.RunAsync(CancellationToken.None), "* * * * *");
        return Task.CompletedTask;
    }

    /// <summary>Sets the billing run's cron and time zone in Hangfire's storage, shared by every node; used again when an admin changes them.</summary>
    public static void ScheduleBillingCycle(IRecurringJobManager recurringJobs, BillingOptions billing) =>
        recurringJobs.AddOrUpdate<BillingCycleJob>(BillingCycle, BillingChunkJob.Queue, job => job.RunAsync(CancellationToken.None),
            billing.RunSchedule, new RecurringJobOptions { TimeZone = BillingEngineExtensions.TryFindTimeZone(billing.TimeZone) ?? TimeZoneInfo.Utc });

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
