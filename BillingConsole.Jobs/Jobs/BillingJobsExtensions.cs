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
            builder.Services.AddHangfireServer(server =>
            {
                server.WorkerCount = options.WorkerCount;
                server.Queues = options.Queues;
                server.SchedulePollingInterval = TimeSpan.FromSeconds(options.PollingIntervalSeconds);
            });
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
}
