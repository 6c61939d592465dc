using BillingConsole.Configuration;
using BillingConsole.Engine;
using BillingConsole.Persistence.Availability;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BillingConsole.Jobs;

public static class BillingJobsExtensions
{
    /// <summary>Hangfire in this process, stored in the billing database; every node runs workers.</summary>
    public static IHostApplicationBuilder AddBillingJobs(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(HangfireOptions.Section).Get<HangfireOptions>() ?? new HangfireOptions();
        var connectionString = builder.Configuration.GetConnectionString("Billing")!;
        builder.Services.AddOptions<HangfireOptions>().BindConfiguration(HangfireOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.AddHangfire((provider, configuration) => configuration
            .UseFilter(new PauseWhileReadOnly(provider.GetRequiredService<ReadOnlyState>()))
            .UseFilter(new JobTraces())
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(
                bootstrapper => bootstrapper.UseNpgsqlConnection(connectionString),
                new PostgreSqlStorageOptions
                {
                    SchemaName = options.SchemaName,
                    PrepareSchemaIfNecessary = true,
                    QueuePollInterval = TimeSpan.FromSeconds(options.PollingIntervalSeconds),
                    InvisibilityTimeout = TimeSpan.FromSeconds(options.InvisibilityTimeoutSeconds),
                    UseSlidingInvisibilityTimeout = true,
                    DistributedLockTimeout = TimeSpan.FromMinutes(1),
                }));

        if (options.RunServer)
        {
            // The billing queue has workers of its own, so that a month-end run takes as many cores as the node has and
            // no more, while deliveries and retries keep theirs.
            var others = options.Queues.Where(queue => queue != BillingChunkJob.Queue).Distinct().ToArray();
            if (options.Queues.Contains(BillingChunkJob.Queue))
                AddServer(builder.Services, options, "billing", [BillingChunkJob.Queue], options.BillingWorkers);
            if (others.Length > 0)
                AddServer(builder.Services, options, "jobs", others, options.WorkerCount);
            builder.Services.AddHostedService<RecurringJobRegistrar>();
        }
        builder.Services.AddSingleton<OperationalGauges>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<OperationalGauges>());

        builder.Services.AddSingleton<IBackgroundWork, HangfireBackgroundWork>();
        builder.Services.AddScoped<DashboardRefreshJob>();
        builder.Services.AddScoped<BillingCycleJob>();
        builder.Services.AddScoped<BillingChunkJob>();
        builder.Services.AddScoped<DunningRetryJob>();
        builder.Services.AddScoped<DunningLadderJob>();
        builder.Services.AddScoped<PaymentReconciliationJob>();
        builder.Services.AddScoped<AutoCollectionJob>();
        builder.Services.AddScoped<BulkRetryJob>();
        builder.Services.AddScoped<PriceMigrationJob>();
        builder.Services.AddScoped<EventDeliveryJob>();
        return builder;
    }

    /// <summary>A Hangfire server of this node, named after the node and its part, so the dashboard tells a node's two apart.</summary>
    private static void AddServer(IServiceCollection services, HangfireOptions options, string part, string[] queues, int workers) =>
        services.AddHangfireServer(server =>
        {
            server.ServerName = $"{Environment.MachineName}-{part}";
            server.WorkerCount = workers;
            server.Queues = queues;
            server.SchedulePollingInterval = TimeSpan.FromSeconds(options.PollingIntervalSeconds);
        });
}
