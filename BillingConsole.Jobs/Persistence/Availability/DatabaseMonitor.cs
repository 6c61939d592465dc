using BillingConsole.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.Persistence.Availability;

/// <summary>
/// Probes PostgreSQL every <see cref="DatabaseMonitorOptions.ProbeIntervalMs"/> over a connection of its own and turns the
/// node read-only after <see cref="DatabaseMonitorOptions.FailuresBeforeReadOnly"/> failed probes in a row; the first
/// answered probe turns it writable again. With the defaults a lost database is noticed within 5 seconds, even when the
/// network swallows packets instead of refusing them.
/// </summary>
public sealed class DatabaseMonitor(
    NpgsqlDataSource dataSource,
    IConfiguration configuration,
    ReadOnlyState state,
    TimeProvider clock,
    IOptions<DatabaseMonitorOptions> options,
    ILogger<DatabaseMonitor> logger) : BackgroundService
{
    public const string LostReason = "the database cannot be reached";
    private int _failures;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        // One pooled connection of its own: the probe never waits behind busy requests, and never needs a free server slot
        // once connected. Built from the configured connection string: the data source's own has the password removed.
        await using var probe = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("Billing"))
        {
            MaxPoolSize = 1,
            Timeout = settings.ProbeTimeoutSeconds,
            CommandTimeout = settings.ProbeTimeoutSeconds,
            ApplicationName = "billing-console database monitor",
        }.ConnectionString).Build();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(settings.ProbeIntervalMs), clock);
        do
        {
            await ProbeOnceAsync(probe, settings, stoppingToken);
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task ProbeOnceAsync(NpgsqlDataSource probe, DatabaseMonitorOptions settings, CancellationToken stoppingToken)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(settings.ProbeTimeoutSeconds), clock);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        try
        {
            await using var command = probe.CreateCommand("select 1");
            await command.ExecuteScalarAsync(deadline.Token);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested && e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            if (++_failures == settings.FailuresBeforeReadOnly && state.Enter(LostReason, clock.GetUtcNow()))
                logger.LogError("PostgreSQL did not answer {Failures} probes in a row ({Error}): this node is read-only until it does",
                    _failures, e.Message);
            return;
        }
        _failures = 0;
        if (!state.Leave()) return;
        // Connections pooled before the loss point at a server that is gone: drop them rather than hand them out.
        dataSource.Clear();
        NpgsqlConnection.ClearAllPools();
        logger.LogWarning("PostgreSQL answers again: this node is writable again");
    }
}
