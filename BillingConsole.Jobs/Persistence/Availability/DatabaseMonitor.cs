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
/// network swallows packets instead of refusing them. A request that met a lost connection need not wait for the next
/// probe: <see cref="ProbeNowAsync"/> settles the question at once.
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
    private readonly SemaphoreSlim _probing = new(1, 1);
    private int _failures;

    // One pooled connection of its own: the probe never waits behind busy requests, and never needs a free server slot
    // once connected. Built from the configured connection string: the data source's own has the password removed.
    private readonly NpgsqlDataSource _probe = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("Billing"))
    {
        MaxPoolSize = 1,
        Timeout = options.Value.ProbeTimeoutSeconds,
        CommandTimeout = options.Value.ProbeTimeoutSeconds,
        ApplicationName = "billing-console database monitor",
    }.ConnectionString).Build();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.ProbeIntervalMs), clock);
        do
        {
            await _probing.WaitAsync(stoppingToken);
            try
            {
                await ProbeOnceAsync(stoppingToken);
            }
            finally
            {
                _probing.Release();
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// Probes now, back to back until it is decided: true when PostgreSQL answered (the node is writable), false when the
    /// node is read-only. At most <see cref="DatabaseMonitorOptions.FailuresBeforeReadOnly"/> probes.
    /// </summary>
    public async Task<bool> ProbeNowAsync(CancellationToken ct)
    {
        await _probing.WaitAsync(ct);
        try
        {
            while (!await ProbeOnceAsync(ct))
            {
                if (state.IsReadOnly) return false;
            }
            return true;
        }
        finally
        {
            _probing.Release();
        }
    }

    /// <summary>One probe; true when PostgreSQL answered.</summary>
    private async Task<bool> ProbeOnceAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(settings.ProbeTimeoutSeconds), clock);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        try
        {
            await using var command = _probe.CreateCommand("select 1");
            await command.ExecuteScalarAsync(deadline.Token);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested && e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            if (++_failures >= settings.FailuresBeforeReadOnly && state.Enter(LostReason, clock.GetUtcNow()))
                logger.LogError("PostgreSQL did not answer {Failures} probes in a row ({Error}): this node is read-only until it does",
                    _failures, e.Message);
            return false;
        }
        _failures = 0;
        if (!state.Leave()) return true;
        // Connections pooled before the loss point at a server that is gone: drop them rather than hand them out.
        dataSource.Clear();
        NpgsqlConnection.ClearAllPools();
        logger.LogWarning("PostgreSQL answers again: this node is writable again");
        return true;
    }

    public override void Dispose()
    {
        _probe.Dispose();
        _probing.Dispose();
        base.Dispose();
    }
}
