using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Payments;
using Dapper;
using Hangfire;
using Npgsql;
using StackExchange.Redis;

namespace BillingConsole.ReadModels;

public sealed record PostgresStatus(bool Reachable, string? Error, int Connections, int Active, int IdleInTransaction, int WaitingOnLocks,
    double LongestQuerySeconds, string DatabaseSize, IReadOnlyList<PostgresActivityRow> Activity);

public sealed record PostgresActivityRow(int Pid, string? State, string? WaitEventType, string? WaitEvent, double Seconds, string Query);

/// <param name="MaxMemory">The memory cap; "0B" means none, and then the eviction policy never acts.</param>
public sealed record RedisStatus(bool Connected, string? Error, string? UsedMemory, string? MaxMemory, string? MaxMemoryPolicy, bool? AppendOnly, string? Version)
{
    public bool Healthy => Connected && Error is null && AppendOnly == true && MaxMemoryPolicy == "volatile-lru" && MaxMemory is not (null or "0B");
}

public sealed record HangfireStatus(bool Reachable, string? Error, IReadOnlyList<QueueDepth> Queues, long Failed, long Processing, long Scheduled, int Servers);

public sealed record QueueDepth(string Name, long Length);

public sealed record GatewayStatus(int Attempts24h, int Timeouts24h, int Failed24h, double? P50Ms, double? P95Ms, double? P99Ms);

public sealed record WebhookRejectionRow(DateTimeOffset ReceivedAt, string Gateway, string Reason, string? RemoteAddress);

/// <summary>A payment the gateway took for an invoice already paid or voided, owed back to the customer.</summary>
public sealed record PaymentToRefundRow(Guid AttemptId, Guid InvoiceId, string? InvoiceNumber, string CustomerName, int AttemptNumber,
    decimal Amount, string Currency, string? GatewayReference, DateTimeOffset? CompletedAt);

/// <summary>
/// The seed's troubleshooting matrix as live readings: PostgreSQL activity and locks, Redis memory and persistence, Hangfire
/// queues, gateway latency and timeouts, refused webhooks. Each reading is taken on its own so one broken part never hides the others.
/// </summary>
public sealed class OperationsStatus(NpgsqlDataSource dataSource, IConnectionMultiplexer redis, JobStorage jobs, GatewayCircuitBreaker breaker,
    TimeProvider clock)
{
    public async Task<PostgresStatus> PostgresAsync(CancellationToken ct)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            var activity = (await connection.QueryAsync<PostgresActivityRow>(new CommandDefinition("""
                select pid, state, wait_event_type, wait_event, coalesce(extract(epoch from now() - query_start), 0)::float8 as seconds,
                       left(query, 160) as query
                from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
                order by query_start nulls last limit 50
                """, cancellationToken: ct))).ToList();
            var size = await connection.QuerySingleAsync<string>(new CommandDefinition("select pg_size_pretty(pg_database_size(current_database()))", cancellationToken: ct));
            var waiting = await connection.QuerySingleAsync<int>(new CommandDefinition("select count(*)::int from pg_locks where not granted", cancellationToken: ct));
            return new PostgresStatus(true, null, activity.Count + 1, activity.Count(a => a.State == "active") + 1,
                activity.Count(a => a.State?.StartsWith("idle in transaction") == true), waiting,
                activity.Where(a => a.State == "active").Select(a => a.Seconds).DefaultIfEmpty(0).Max(), size, activity);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return new PostgresStatus(false, e.Message, 0, 0, 0, 0, 0, "—", []);
        }
    }

    /// <summary>The gateway's circuit breaker as stored, not as this node last cached it.</summary>
    public Task<GatewayCircuit> GatewayBreakerAsync(CancellationToken ct) => breaker.ReadAsync(ct);

    public async Task<RedisStatus> RedisAsync()
    {
        try
        {
            var server = redis.GetServers().FirstOrDefault();
            if (server is null) return new RedisStatus(false, "No Redis server is configured.", null, null, null, null, null);
            if (!server.IsConnected) return new RedisStatus(false, "Not connected (reconnecting in the background).", null, null, null, null, null);
            var info = (await server.InfoAsync()).SelectMany(group => group).ToDictionary(pair => pair.Key, pair => pair.Value);
            var policy = (await server.ConfigGetAsync("maxmemory-policy")).FirstOrDefault().Value;
            return new RedisStatus(true, null, info.GetValueOrDefault("used_memory_human"), info.GetValueOrDefault("maxmemory_human"), policy,
                info.GetValueOrDefault("aof_enabled") == "1", info.GetValueOrDefault("redis_version"));
        }
        catch (RedisCommandException)
        {
            // INFO and CONFIG are admin commands: connected, but the configuration does not allow asking about the server.
            return new RedisStatus(true, "Connected, but memory, persistence and eviction policy need admin commands: add allowAdmin=true to Redis:Configuration.",
                null, null, null, null, null);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return new RedisStatus(false, e.Message, null, null, null, null, null);
        }
    }

    public HangfireStatus Hangfire()
    {
        try
        {
            var monitoring = jobs.GetMonitoringApi();
            var statistics = monitoring.GetStatistics();
            var queues = monitoring.Queues().Select(q => new QueueDepth(q.Name, q.Length)).ToList();
            foreach (var expected in new[] { "billing", "dunning_retry", "default" })
                if (queues.All(q => q.Name != expected)) queues.Add(new QueueDepth(expected, 0));
            return new HangfireStatus(true, null, queues.OrderBy(q => q.Name).ToList(), statistics.Failed, statistics.Processing, statistics.Scheduled, (int)statistics.Servers);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return new HangfireStatus(false, e.Message, [], 0, 0, 0, 0);
        }
    }

    public async Task<(GatewayStatus Gateway, IReadOnlyList<WebhookRejectionRow> Rejections)> PaymentsAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var since = clock.GetUtcNow().AddHours(-24);
        var gateway = await connection.QuerySingleAsync<GatewayStatus>(new CommandDefinition("""
            select count(*)::int as attempts24h,
                   count(*) filter (where decline_code = 'ERR_GATEWAY_TIMEOUT')::int as timeouts24h,
                   count(*) filter (where status = 'failed')::int as failed24h,
                   percentile_cont(0.5) within group (order by latency_ms)::float8 as p50ms,
                   percentile_cont(0.95) within group (order by latency_ms)::float8 as p95ms,
                   percentile_cont(0.99) within group (order by latency_ms)::float8 as p99ms
            from payment_attempts where started_at >= @since
            """, new { since }, cancellationToken: ct));
        var rejections = (await connection.QueryAsync<WebhookRejectionRow>(new CommandDefinition(
            "select received_at, gateway, reason, remote_address from webhook_rejections order by received_at desc limit 20",
            cancellationToken: ct))).ToList();
        return (gateway, rejections);
    }

    /// <summary>How many payments are to be refunded, and the latest of them.</summary>
    public async Task<(int Count, IReadOnlyList<PaymentToRefundRow> Latest)> PaymentsToRefundAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        using var results = await connection.QueryMultipleAsync(new CommandDefinition("""
            select count(*)::int from payment_attempts where status = 'refund_due';
            select a.id as attempt_id, a.invoice_id, i.number as invoice_number, c.name as customer_name, a.attempt_number, a.amount,
                   a.currency, a.gateway_reference, a.completed_at
            from payment_attempts a join invoices i on i.id = a.invoice_id join customers c on c.id = a.customer_id
            where a.status = 'refund_due' order by a.started_at desc, a.id desc limit 20;
            """, cancellationToken: ct));
        return (await results.ReadSingleAsync<int>(), (await results.ReadAsync<PaymentToRefundRow>()).ToList());
    }
}
