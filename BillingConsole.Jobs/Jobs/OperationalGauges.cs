using System.Diagnostics.Metrics;
using BillingConsole.Configuration;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Telemetry;
using BillingConsole.ReadModels;
using Dapper;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.Jobs;

/// <summary>
/// Figures that live in the database, observed on the engine's meter: the dunning backlog and how late its oldest due retry
/// is (disk waits and a busy queue show here first), notifications waiting in the outbox, jobs waiting in Hangfire's queues
/// and each gateway's circuit state. Read every <see cref="Interval"/> by one background loop, so a scrape never waits on
/// the database and many scrapes cost one read.
/// </summary>
public sealed class OperationalGauges : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    private readonly IServiceScopeFactory _scopes;
    private readonly JobStorage _jobs;
    private readonly string[] _queues;
    private readonly TimeProvider _clock;
    private readonly ILogger<OperationalGauges> _logger;
    private volatile Sample _sample = Sample.Empty;

    public OperationalGauges(EngineTelemetry telemetry, IServiceScopeFactory scopes, JobStorage jobs, IOptions<HangfireOptions> hangfire, TimeProvider clock,
        ILogger<OperationalGauges> logger)
    {
        _scopes = scopes;
        _jobs = jobs;
        _queues = hangfire.Value.Queues;
        _clock = clock;
        _logger = logger;
        var meter = telemetry.Meter;
        meter.CreateObservableGauge("billing.dunning.due_retries", () => _sample.DueRetries, "{case}", "Dunning retries due now and not yet made.");
        meter.CreateObservableGauge("billing.dunning.lateness", () => _sample.OldestDueLateness.TotalSeconds, "s",
            "How long the oldest due dunning retry has waited past its planned time.");
        meter.CreateObservableGauge("billing.dunning.open_cases", () => _sample.OpenCases, "{case}", "Open dunning cases.");
        meter.CreateObservableGauge("billing.notifications.pending", () => _sample.PendingNotifications, "{notification}",
            "Notifications waiting in the outbox to be sent.");
        meter.CreateObservableGauge("billing.jobs.queued", () => _sample.QueuedJobs.Select(q => new Measurement<long>(q.Value,
            new KeyValuePair<string, object?>("queue", q.Key))), "{job}", "Jobs waiting in each Hangfire queue.");
        meter.CreateObservableGauge("billing.gateway.circuit_open", () => _sample.Circuits.Select(c => new Measurement<int>(c.Value == CircuitState.Closed ? 0 : 1,
            new KeyValuePair<string, object?>("gateway", c.Key), new KeyValuePair<string, object?>("state", c.Value.ToString().ToLowerInvariant()))),
            "{circuit}", "1 while a gateway's circuit breaker holds charges back (open or half-open), 0 when closed.");
    }

    /// <summary>Reads the figures now; the loop calls it every interval.</summary>
    public async Task SampleAsync(CancellationToken ct)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var queue = await scope.ServiceProvider.GetRequiredService<DunningStatistics>().QueueAsync(ct);
        await using var connection = await scope.ServiceProvider.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(ct);
        var pending = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from notifications where status = 'pending'", cancellationToken: ct));
        var circuits = (await connection.QueryAsync<(string Gateway, string State)>(new CommandDefinition(
                "select gateway, state from gateway_circuits", cancellationToken: ct)))
            .ToDictionary(c => c.Gateway, c => Enum.Parse<CircuitState>(c.State.Replace("_", ""), ignoreCase: true));
        // Hangfire lists only the queues that hold jobs; an empty queue this node serves reads 0.
        var queued = _jobs.GetMonitoringApi().Queues().ToDictionary(q => q.Name, q => q.Length);
        foreach (var name in _queues) queued.TryAdd(name, 0);
        var now = _clock.GetUtcNow();
        _sample = new Sample(queue.Open, queue.DueNow, queue.OldestDueAt is { } due && due < now ? now - due : TimeSpan.Zero, pending, queued, circuits);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _clock);
        do
        {
            try
            {
                await SampleAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The figures keep their last values; the database monitor reports the outage itself.
                _logger.LogWarning(e, "The operational figures could not be read");
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private sealed record Sample(long OpenCases, long DueRetries, TimeSpan OldestDueLateness, long PendingNotifications,
        IReadOnlyDictionary<string, long> QueuedJobs, IReadOnlyDictionary<string, CircuitState> Circuits)
    {
        public static readonly Sample Empty = new(0, 0, TimeSpan.Zero, 0, new Dictionary<string, long>(), new Dictionary<string, CircuitState>());
    }
}
