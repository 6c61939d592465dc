using System.Diagnostics;
using System.Text.Json;
using BillingConsole.Domain.Audit;
using BillingConsole.Domain.Dunning;
using BillingConsole.Persistence.Configurations;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BillingConsole.Persistence.DemoData;

/// <summary>
/// Fills an empty billing database with a realistic, deterministic history: a catalog, customers signing up over the months,
/// subscriptions with their invoices, charges, dunning, plan changes and credits, the ledger that balances it all, billing
/// runs and an audit trail; then the engine's own MRR recording derives the MRR movements and daily snapshots from that history.
/// The same options always give the same rows.
/// </summary>
/// <remarks>
/// Customers are simulated in chunks, each chunk written with binary COPY in its own transaction by one of a few concurrent
/// connections, so memory stays bounded by the chunks in flight. A first, write-free pass counts invoices per day and chunk
/// so that invoice numbers follow issue dates over the whole data set.
/// </remarks>
public sealed class DemoDataGenerator(NpgsqlDataSource dataSource, MrrRecorder mrr, RevenueRecognitionRecorder recognition,
    DunningCaseFactsRecorder dunningCaseFacts, ILogger<DemoDataGenerator> logger)
{
    internal const string Gateway = "sandbox";

    private static readonly int Writers = Math.Clamp(Environment.ProcessorCount + 1, 2, 4);

    /// <summary>True when the database has no customers, i.e. demo data may be written.</summary>
    public static async Task<bool> IsDatabaseEmptyAsync(NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        await using var command = dataSource.CreateCommand("select not exists (select 1 from customers)");
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    public async Task<DemoDataSummary> GenerateAsync(DemoDataOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!await IsDatabaseEmptyAsync(dataSource, ct))
            throw new InvalidOperationException("The database already has customers; demo data is only written to an empty database.");

        var clock = Stopwatch.StartNew();
        var world = new DemoWorld(options);
        logger.LogInformation("Generating demo data: {Customers} customers over {Months} months up to {Now:u} (seed {Seed}), {Chunks} chunks",
            world.CustomerCount, world.Months, world.Now, world.Seed, world.ChunkCount);

        var (numberBases, runs, invoices) = await Task.Run(() => PlanInvoiceNumbers(world, ct), ct);
        logger.LogInformation("Demo data: planned {Invoices} invoices in {Elapsed:0.0} s", invoices, clock.Elapsed.TotalSeconds);

        var tally = new DemoTally();
        await WriteReferenceDataAsync(world, runs, tally, ct);
        var chunkTables = await DemoTables.DescribeChunkTablesAsync(dataSource, ct);
        var bulkLoad = await DemoBulkLoad.SuspendAsync(dataSource, chunkTables.Select(table => table.Table).ToList(), logger, ct);
        try
        {
            await Task.Run(() => WriteCustomers(world, chunkTables, numberBases, tally, clock, ct), ct);
        }
        finally
        {
            await bulkLoad.RestoreAsync(Writers, CancellationToken.None);
        }
        await WriteAdminAuditAsync(world, tally, ct);
        tally.AddRows("mrr_movements", await mrr.RecordAsync(new DateTimeOffset(world.Now), ct));
        var foldStarted = clock.Elapsed;
        var folded = await recognition.FoldAsync(ct) + await dunningCaseFacts.FoldAsync(ct);
        logger.LogInformation("Demo data: folded {Changes} invoice and dunning case changes into the analytics' tables in {Elapsed:0.0} s",
            folded, (clock.Elapsed - foldStarted).TotalSeconds);
        await using (var snapshots = dataSource.CreateCommand("select count(*) from mrr_snapshots"))
        {
            tally.AddRows("mrr_snapshots", (long)(await snapshots.ExecuteScalarAsync(ct))!);
        }
        // The engine numbers new invoices from the sequence: start it past the last demo number.
        await using (var sequence = dataSource.CreateCommand($"select setval('{InvoiceNumbers.Sequence}', {invoices} + 1000)"))
        {
            await sequence.ExecuteNonQueryAsync(ct);
        }
        await using (var analyze = dataSource.CreateCommand("analyze"))
        {
            await analyze.ExecuteNonQueryAsync(ct);
        }

        var summary = new DemoDataSummary { RowCounts = tally.Rows, Totals = tally.MoneyTotals(), Elapsed = clock.Elapsed };
        logger.LogInformation("Demo data written in {Elapsed:0.0} s: {Rows} rows ({Customers} customers, {Invoices} invoices, {Ledger} ledger entries)",
            summary.Elapsed.TotalSeconds, summary.RowCounts.Values.Sum(), summary.Count("customers"), summary.Count("invoices"),
            summary.Count("ledger_entries"));
        return summary;
    }

    private static void Simulate(DemoWorld world, ChunkOutput output, int chunk)
    {
        var simulator = new CustomerSimulator(world, output);
        var (first, count) = world.Chunk(chunk);
        for (var index = first; index < first + count; index++) simulator.Simulate(index);
    }

    /// <summary>
    /// The write-free pass: how many invoices each chunk issues on each day. Turned into, per chunk and day, the count of invoices
    /// numbered before it, so that numbers run in issue-date order whichever chunk is written first.
    /// </summary>
    private static (int[][] NumberBases, RunTally[] Runs, int Invoices) PlanInvoiceNumbers(DemoWorld world, CancellationToken ct)
    {
        var perChunk = new int[world.ChunkCount][];
        var runs = new RunTally[world.DayCount];
        var gate = new Lock();
        Parallel.For(0, world.ChunkCount, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Environment.ProcessorCount }, chunk =>
        {
            var output = new ChunkOutput(world, numberBase: null);
            Simulate(world, output, chunk);
            perChunk[chunk] = output.InvoicesPerDay;
            lock (gate)
            {
                for (var day = 0; day < runs.Length; day++) runs[day].Add(output.Runs[day]);
            }
        });

        var numbered = 0;
        for (var day = 0; day < world.DayCount; day++)
        {
            foreach (var counts in perChunk)
            {
                var count = counts[day];
                counts[day] = numbered;
                numbered += count;
            }
        }
        return (perChunk, runs, numbered);
    }

    private void WriteCustomers(DemoWorld world, IReadOnlyList<IChunkTable> tables, int[][] numberBases, DemoTally tally, Stopwatch clock,
        CancellationToken ct)
    {
        var done = 0;
        var reportEvery = Math.Max(1, world.ChunkCount / 10);
        Parallel.For(0, world.ChunkCount, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Writers }, chunk =>
        {
            var output = new ChunkOutput(world, numberBases[chunk]);
            Simulate(world, output, chunk);
            var written = new List<(string Table, long Rows)>(tables.Count);
            using (var connection = dataSource.OpenConnection())
            using (var transaction = connection.BeginTransaction())
            {
                using (var relaxed = new NpgsqlCommand("set local synchronous_commit = off", connection, transaction)) relaxed.ExecuteNonQuery();
                foreach (var table in tables) written.Add((table.Table, table.Write(connection, output)));
                transaction.Commit();
            }
            lock (tally)
            {
                tally.Add(output);
                foreach (var (table, rows) in written) tally.AddRows(table, rows);
            }
            var finished = Interlocked.Increment(ref done);
            if (finished % reportEvery == 0 || finished == world.ChunkCount)
            {
                logger.LogInformation("Demo data: {Done}/{Chunks} chunks written, {Elapsed:0.0} s, {Memory} MiB managed",
                    finished, world.ChunkCount, clock.Elapsed.TotalSeconds, GC.GetTotalMemory(false) >> 20);
            }
        });
    }

    private async Task WriteReferenceDataAsync(DemoWorld world, RunTally[] runs, DemoTally tally, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        var batch = new NpgsqlBatch(connection, transaction);
        foreach (var plan in world.Catalog.Plans)
        {
            batch.BatchCommands.Add(Command("insert into plans (id, code, name, description, active) values ($1, $2, $3, $4, true)",
                plan.Id, plan.Code, plan.Name, plan.Description));
        }
        foreach (var price in world.Catalog.Prices)
        {
            batch.BatchCommands.Add(Command(
                "insert into prices (id, plan_id, currency, amount, interval, trial_days, active) values ($1, $2, $3, $4, $5, $6, $7)",
                price.Id, price.Plan.Id, price.Currency, price.Amount, price.IntervalName, price.TrialDays, price.Active));
        }
        batch.BatchCommands.Add(Command(
            "insert into dunning_policies (version, settings, created_by, reason, created_at) values ($1, $2::jsonb, 'system', $3, $4)",
            DemoWorld.PolicyVersion, PolicyJson(world.Policy), "Default dunning policy installed with the console.", Utc(world.Start)));
        await using (batch)
        {
            await batch.ExecuteNonQueryAsync(ct);
        }
        tally.AddRows("plans", world.Catalog.Plans.Count);
        tally.AddRows("prices", world.Catalog.Prices.Count);
        tally.AddRows("dunning_policies", 1);

        var billingRuns = Enumerable.Range(0, world.DayCount).Select(day =>
        {
            var run = runs[day];
            var startedAt = world.BillingRunAt(day);
            var finishedAt = (run.LastCompletion > startedAt ? run.LastCompletion : startedAt).AddSeconds(4);
            var chunks = (run.Invoiced + 499) / 500;
            return new BillingRunRow(world.BillingRunId(day), startedAt, "schedule", "system", "completed", startedAt,
                finishedAt < world.Now ? finishedAt : world.Now, run.Invoiced, chunks, chunks, run.Invoiced, run.Charged, run.Failed, null);
        }).ToList();
        var billingRunTable = await CopyTable<BillingRunRow>.DescribeAsync(dataSource, "billing_runs", ct);
        tally.AddRows(billingRunTable.Table, billingRunTable.Write(connection, billingRuns));
        await transaction.CommitAsync(ct);
    }

    private async Task WriteAdminAuditAsync(DemoWorld world, DemoTally tally, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var audit = DemoAdminAudit.Entries(world, PolicyJson(world.Policy));
        var auditTable = await CopyTable<AuditEntry>.DescribeAsync(dataSource, "audit_log", ct);
        tally.AddRows(auditTable.Table, auditTable.Write(connection, audit));
        await transaction.CommitAsync(ct);
    }

    /// <summary>The policy as the dunning_policies.settings column stores it (the EF value converter's JSON options).</summary>
    internal static string PolicyJson(DunningPolicySettings settings) => JsonSerializer.Serialize(settings, DunningPolicyConfiguration.Json);

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        return command;
    }

    private static DateTimeOffset Utc(DateTime at) => new(DateTime.SpecifyKind(at, DateTimeKind.Utc));
}
