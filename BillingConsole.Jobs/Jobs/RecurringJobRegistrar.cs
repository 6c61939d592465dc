using BillingConsole.Configuration;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BillingConsole.Jobs;

/// <summary>
/// Registers (or updates) the recurring jobs when a node starts. Every node does it; the registration is idempotent. A node
/// killed while holding Hangfire's lock leaves it taken until it times out: a restarted node then still comes up, and
/// registers in the background once the lock is free.
/// </summary>
internal sealed class RecurringJobRegistrar(IRecurringJobManager recurringJobs, IOptionsMonitor<BillingOptions> billing, TimeProvider clock,
    ILogger<RecurringJobRegistrar> logger) : BackgroundService
{
    public const string DashboardRefresh = "dashboard-refresh";
    public const string BillingCycle = "billing-cycle";
    public const string DunningRetry = "dunning-retry";
    public const string DunningLadder = "dunning-ladder";
    public const string PaymentReconciliation = "payment-reconciliation";
    public const string AutoCollection = "auto-collection";
    public const string NotificationDelivery = "notification-delivery";
    public const string EventDelivery = "event-delivery";
    public const string CardExpiryNotices = "card-expiry-notices";
    public const string MrrRecording = "mrr-recording";
    public const string AnalyticsFold = "analytics-fold";
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(10);

    private bool _registered;

    /// <summary>Registers during start-up when Hangfire's lock is free, as it is unless a node died holding it.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _registered = TryRegister();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!_registered)
        {
            await Task.Delay(RetryAfter, clock, stoppingToken);
            _registered = TryRegister();
        }
    }

    private bool TryRegister()
    {
        try
        {
            Register();
            return true;
        }
        catch (Exception e) when (e is DistributedLockTimeoutException or PostgreSqlDistributedLockException)
        {
            logger.LogWarning("Recurring jobs not registered yet, Hangfire's lock is taken ({Message}); trying again in {Seconds} s",
                e.Message, RetryAfter.TotalSeconds);
            return false;
        }
    }

    private void Register()
    {
        recurringJobs.AddOrUpdate<DashboardRefreshJob>(DashboardRefresh, "default", job => job.RunAsync(CancellationToken.None), "* * * * *");
        ScheduleBillingCycle(recurringJobs, billing.CurrentValue.RunSchedule, billing.CurrentValue.TimeZone);
        recurringJobs.AddOrUpdate<DunningRetryJob>(DunningRetry, DunningRetryJob.Queue, job => job.RunAsync(CancellationToken.None), "* * * * *");
        recurringJobs.AddOrUpdate<DunningLadderJob>(DunningLadder, "default", job => job.RunAsync(CancellationToken.None), "* * * * *");
        recurringJobs.AddOrUpdate<PaymentReconciliationJob>(PaymentReconciliation, "default", job => job.RunAsync(CancellationToken.None), "* * * * *");
        recurringJobs.AddOrUpdate<AutoCollectionJob>(AutoCollection, BillingChunkJob.Queue, job => job.RunAsync(CancellationToken.None), "*/5 * * * *");
        recurringJobs.AddOrUpdate<NotificationDeliveryJob>(NotificationDelivery, "default", job => job.RunAsync(CancellationToken.None), "* * * * *");
        recurringJobs.AddOrUpdate<EventDeliveryJob>(EventDelivery, "default", job => job.RunAsync(CancellationToken.None), "* * * * *");
        recurringJobs.AddOrUpdate<CardExpiryNoticeJob>(CardExpiryNotices, "default", job => job.RunAsync(CancellationToken.None), "0 9 * * *");
        recurringJobs.AddOrUpdate<MrrRecordingJob>(MrrRecording, "default", job => job.RunAsync(CancellationToken.None), "7 * * * *");
        recurringJobs.AddOrUpdate<AnalyticsFoldJob>(AnalyticsFold, "default", job => job.RunAsync(CancellationToken.None), "* * * * *");
    }

    /// <summary>Sets the billing run's cron and time zone in Hangfire's storage, shared by every node; used again when an admin changes them.</summary>
    public static void ScheduleBillingCycle(IRecurringJobManager recurringJobs, string cron, string timeZone) =>
        recurringJobs.AddOrUpdate<BillingCycleJob>(BillingCycle, BillingChunkJob.Queue, job => job.RunAsync(CancellationToken.None),
            cron, new RecurringJobOptions { TimeZone = BillingEngineExtensions.TryFindTimeZone(timeZone) ?? TimeZoneInfo.Utc });
}
