using BillingConsole.Configuration;
using BillingConsole.Domain.Billing;
using BillingConsole.Domain.Common;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace BillingConsole.Engine.Billing;

/// <summary>What started a billing run, as stored in billing_runs.trigger.</summary>
public static class BillingRunTriggers
{
    public const string Schedule = "schedule";
    public const string Manual = "manual";
    /// <summary>A test clock's advance, over that clock's customers; its chunks run in the advance, not as jobs.</summary>
    public const string TestClock = "test_clock";
}

/// <summary>
/// Starts billing runs: one row in billing_runs (only one may be running, by the unique index ux_billing_runs_one_running),
/// the due subscriptions split into chunks in keyset order, and one background job per chunk. Inside a test clock's advance
/// (<see cref="EngineClock"/>) the run covers that clock's customers only, as of the clock's time, and its chunks are left
/// for the advance to run; outside one it covers the customers without a clock.
/// </summary>
public sealed class BillingRunService(
    BillingDbContext db,
    IBackgroundWork background,
    AuditTrail audit,
    BillingRunTimings timings,
    TimeProvider clock,
    IOptionsMonitor<BillingOptions> options,
    ILogger<BillingRunService> logger)
{
    /// <summary>
    /// Starts a run as of now and returns its id; while one is running, returns that one instead, first queuing its
    /// unfinished chunks again if it has stalled (see <see cref="BillingOptions.StalledRunMinutes"/>).
    /// </summary>
    public Task<Guid> StartAsync(Actor actor, string trigger = BillingRunTriggers.Manual, CancellationToken ct = default) =>
        StartAsync(actor, trigger, "Billing run started from the console", ct);

    /// <summary>An admin's "run billing now", with the reason recorded in the audit log.</summary>
    public Task<Guid> StartNowAsync(Actor actor, string reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new DomainRuleException("Give a reason: it goes in the audit log.");
        return StartAsync(actor, BillingRunTriggers.Manual, reason, ct);
    }

    private async Task<Guid> StartAsync(Actor actor, string trigger, string reason, CancellationToken ct)
    {
        if (await RunningAsync(ct) is { } running)
        {
            await ResumeIfStalledAsync(running, ct);
            return running;
        }
        var lap = timings.Start();
        var now = clock.GetUtcNow();
        var run = new BillingRun(now, trigger, actor.Name, now, EngineClock.TestClockId);
        IReadOnlyList<int> chunks;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            db.BillingRuns.Add(run);
            if (actor != Actor.System) audit.Record(actor, "billing_run.start", "billing_run", run.Id, reason);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "ux_billing_runs_one_running" })
            {
                await transaction.RollbackAsync(ct);
                db.ChangeTracker.Clear();
                return await RunningAsync(ct) ?? throw new InvalidOperationException("A billing run was running a moment ago and is gone.", e);
            }
            chunks = await PlanAsync(run, ct);
            await transaction.CommitAsync(ct);
        }
        lap.Done(BillingRunPhase.Plan);
        Enqueue(run.Id, chunks);
        lap.Done(BillingRunPhase.FanOut);
        logger.LogInformation("Billing run {RunId} started by {Actor} as of {AsOf}: {DueCount} due subscriptions in {ChunkCount} chunks",
            run.Id, actor.Name, run.AsOf, run.DueCount, run.ChunkCount);
        return run.Id;
    }

    /// <summary>A chunk failed: the run is marked failed so the next one can start; what is still due is billed then.</summary>
    public async Task FailAsync(Guid runId, string error, CancellationToken ct)
    {
        var run = await db.BillingRuns.FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null || run.Status != BillingRunStatus.Running) return;
        run.Fail(error, clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
    }

    private void Enqueue(Guid runId, IEnumerable<int> chunks)
    {
        // A job would run outside the frozen time: whoever froze it runs the chunks itself.
        if (EngineClock.IsFrozen) return;
        foreach (var number in chunks)
            background.EnqueueBillingChunk(runId, number);
    }

    /// <summary>
    /// Queues the unfinished chunks of a run again when nothing has moved for <see cref="BillingOptions.StalledRunMinutes"/>
    /// since it started or a chunk last finished a step. Two nodes doing this at once queue the chunks twice, which chunks
    /// tolerate (see <see cref="BillingChunkProcessor"/>).
    /// </summary>
    private async Task ResumeIfStalledAsync(Guid runId, CancellationToken ct)
    {
        var stalledSince = clock.GetUtcNow().AddMinutes(-options.CurrentValue.StalledRunMinutes);
        var unfinished = await db.Database.SqlQuery<int>($"""
            select c.number as "Value" from billing_runs r join billing_run_chunks c on c.run_id = r.id
            where r.id = {runId} and r.status = 'running' and c.charged_at is null
              and greatest(r.started_at, (select max(greatest(x.invoiced_at, x.charged_at)) from billing_run_chunks x where x.run_id = r.id)) < {stalledSince}
            order by c.number
            """).ToListAsync(ct);
        if (unfinished.Count == 0) return;
        Enqueue(runId, unfinished);
        logger.LogWarning("Billing run {RunId} showed no progress for {Minutes} minutes: {Count} unfinished chunks queued again",
            runId, options.CurrentValue.StalledRunMinutes, unfinished.Count);
    }

    private async Task<Guid?> RunningAsync(CancellationToken ct) =>
        await db.BillingRuns.AsNoTracking().Where(r => r.Status == BillingRunStatus.Running && r.TestClockId == EngineClock.TestClockId).Select(r => (Guid?)r.Id).FirstOrDefaultAsync(ct);

    /// <summary>
    /// Reads the due subscription ids in (current_period_end, id) order from ix_subscriptions_due and stores them as chunks,
    /// in the run's transaction. Only ids travel; each chunk job loads its own rows.
    /// </summary>
    private async Task<IReadOnlyList<int>> PlanAsync(BillingRun run, CancellationToken ct)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var chunkSize = options.CurrentValue.ChunkSize;
        var chunks = new List<Guid[]>();
        var current = new List<Guid>(chunkSize);
        await using (var select = new NpgsqlCommand(
            """
            select s.id from subscriptions s
            where s.status in ('trialing', 'active', 'past_due') and s.current_period_end <= $1
              and exists (select 1 from customers c where c.id = s.customer_id and (c.test_clock_id = $2 or ($2::uuid is null and c.test_clock_id is null)))
            order by s.current_period_end, s.id
            """,
            connection))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = run.AsOf });
            select.Parameters.Add(new NpgsqlParameter { Value = (object?)run.TestClockId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                current.Add(reader.GetGuid(0));
                if (current.Count < chunkSize) continue;
                chunks.Add([.. current]);
                current.Clear();
            }
        }
        if (current.Count > 0) chunks.Add([.. current]);

        await using (var importer = await connection.BeginBinaryImportAsync("copy billing_run_chunks (run_id, number, subscription_ids, invoiced_count, charged_count, failed_count) from stdin (format binary)", ct))
        {
            for (var i = 0; i < chunks.Count; i++)
            {
                await importer.StartRowAsync(ct);
                await importer.WriteAsync(run.Id, NpgsqlDbType.Uuid, ct);
                await importer.WriteAsync(i + 1, NpgsqlDbType.Integer, ct);
                await importer.WriteAsync(chunks[i], NpgsqlDbType.Array | NpgsqlDbType.Uuid, ct);
                for (var counter = 0; counter < 3; counter++) await importer.WriteAsync(0, NpgsqlDbType.Integer, ct);
            }
            await importer.CompleteAsync(ct);
        }
        run.Plan(chunks.Sum(c => c.Length), chunks.Count, clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        return [.. Enumerable.Range(1, chunks.Count)];
    }
}
