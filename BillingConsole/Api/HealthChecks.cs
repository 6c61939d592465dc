using BillingConsole.Persistence.Availability;
using Hangfire;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using StackExchange.Redis;

namespace BillingConsole.Api;

internal sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("select 1");
            await command.ExecuteScalarAsync(ct);
            return HealthCheckResult.Healthy("PostgreSQL answers.");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL cannot be reached: the console is read-only.");
        }
    }
}

/// <summary>Unhealthy while the node is read-only, with the reason and since when: a load balancer should send writes elsewhere.</summary>
internal sealed class ReadOnlyHealthCheck(ReadOnlyState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        Task.FromResult(state.Current is { } status
            ? HealthCheckResult.Unhealthy(status.Explanation)
            : HealthCheckResult.Healthy("Writable."));
}

/// <summary>Redis away makes the product slower, not wrong: reported as degraded, not unhealthy.</summary>
internal sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"Redis answers in {latency.TotalMilliseconds:0.0} ms.");
        }
        catch (RedisException)
        {
            return HealthCheckResult.Degraded("Redis cannot be reached: idempotency falls back to PostgreSQL.");
        }
    }
}

internal sealed class HangfireHealthCheck(JobStorage storage) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            var servers = storage.GetMonitoringApi().Servers();
            return Task.FromResult(servers.Count > 0
                ? HealthCheckResult.Healthy($"{servers.Count} Hangfire server(s) running.")
                : HealthCheckResult.Degraded("No Hangfire server is running: jobs are not being processed."));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Hangfire storage cannot be reached."));
        }
    }
}
