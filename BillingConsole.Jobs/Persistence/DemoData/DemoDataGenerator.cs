using System.Diagnostics;
using System.Text.Json;
using BillingConsole.Domain.Audit;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Persistence.Configurations;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace BillingConsole.Persistence.DemoData;

/// <summary>
/// Fills an empty billing database with a realistic, deterministic history: a catalog, customers signing up over the months,
/// subscriptions with their invoices, charges, dunning, plan changes and credits, the ledger that balances it all, billing
/// runs, an audit trail and monthly revenue snapshots. The same options always give the same rows.
/// </summary>
/// <remarks>
/// Customers are simulated in chunks, each chunk written with binary COPY in its own transaction by one of a few concurrent
/// connections, so memory stays bounded by the chunks in flight. A first, write-free pass counts invoices per day and chunk
/// so that invoice numbers follow issue dates over the whole data set.
/// </remarks>
public sealed class DemoDataGenerator(NpgsqlDataSource dataSource, ILogger<DemoDataGenerator> logger)
{
    internal const string Gateway = "sandbox";

    private static readonly int Writers = Math.Clamp(Environment.ProcessorCount + 1, 2, 4);

    private static readonly string[] BulkTables =
        ["customers", "payment_methods", "subscriptions", "invoices", "invoice_lines", "payment_attempts", "dunning_cases", "ledger_entries", "audit_log"];

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

        var tally = new DemoTally(world);
        await WriteReferenceDataAsync(world, runs, tally, ct);
        var bulkLoad = await DemoBulkLoad.SuspendAsync(dataSource, BulkTables, logger, ct);
        try
        {
            await Task.Run(() => WriteCustomers(world, numberBases, tally, clock, ct), ct);
        }
        finally
        {
            await bulkLoad.RestoreAsync(Writers, CancellationToken.None);
        }
        await WriteSnapshotsAndAdminAuditAsync(world, tally, ct);
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

    private void WriteCustomers(DemoWorld world, int[][] numberBases, DemoTally tally, Stopwatch clock, CancellationToken ct)
    {
        var done = 0;
        var reportEvery = Math.Max(1, world.ChunkCount / 10);
        Parallel.For(0, world.ChunkCount, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Writers }, chunk =>
        {
            var output = new ChunkOutput(world, numberBases[chunk]);
            Simulate(world, output, chunk);
            var chunkTally = new DemoTally(world);
            chunkTally.Add(output);
            using (var connection = dataSource.OpenConnection())
            using (var transaction = connection.BeginTransaction())
            {
                using (var relaxed = new NpgsqlCommand("set local synchronous_commit = off", connection, transaction)) relaxed.ExecuteNonQuery();
                foreach (var (table, rows) in DemoCopy.WriteChunk(connection, output)) chunkTally.AddRows(table, rows);
                transaction.Commit();
            }
            lock (tally) tally.Merge(chunkTally);
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

        await using (var importer = await connection.BeginBinaryImportAsync(
            "COPY billing_runs (id, as_of, trigger, started_by, status, started_at, finished_at, due_count, chunk_count, chunks_done, invoiced_count, charged_count, failed_count) FROM STDIN (FORMAT BINARY)", ct))
        {
            for (var day = 0; day < world.DayCount; day++)
            {
                var run = runs[day];
                var startedAt = world.BillingRunAt(day);
                var finishedAt = (run.LastCompletion > startedAt ? run.LastCompletion : startedAt).AddSeconds(4);
                if (finishedAt > world.Now) finishedAt = world.Now;
                var chunks = (run.Invoiced + 499) / 500;
                await importer.StartRowAsync(ct);
                await importer.WriteAsync(world.BillingRunId(day), NpgsqlDbType.Uuid, ct);
                await importer.WriteAsync(startedAt, NpgsqlDbType.TimestampTz, ct);
                await importer.WriteAsync("schedule", NpgsqlDbType.Text, ct);
                await importer.WriteAsync("system", NpgsqlDbType.Text, ct);
                await importer.WriteAsync("completed", NpgsqlDbType.Text, ct);
                await importer.WriteAsync(startedAt, NpgsqlDbType.TimestampTz, ct);
                await importer.WriteAsync(finishedAt, NpgsqlDbType.TimestampTz, ct);
                await importer.WriteAsync(run.Invoiced, NpgsqlDbType.Integer, ct);
                await importer.WriteAsync(chunks, NpgsqlDbType.Integer, ct);
                await importer.WriteAsync(chunks, NpgsqlDbType.Integer, ct);
                await importer.WriteAsync(run.Invoiced, NpgsqlDbType.Integer, ct);
                await importer.WriteAsync(run.Charged, NpgsqlDbType.Integer, ct);
                await importer.WriteAsync(run.Failed, NpgsqlDbType.Integer, ct);
            }
            tally.AddRows("billing_runs", (long)await importer.CompleteAsync(ct));
        }
        await transaction.CommitAsync(ct);
    }

    private async Task WriteSnapshotsAndAdminAuditAsync(DemoWorld world, DemoTally tally, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var importer = await connection.BeginBinaryImportAsync(
            "COPY mrr_snapshots (month, currency, mrr, active_subscriptions, new_subscriptions, churned_voluntary, churned_involuntary, computed_at) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var (currency, months) in tally.Months)
            {
                for (var month = 0; month < months.Length; month++)
                {
                    var figures = months[month];
                    var computedAt = month + 1 < months.Length ? world.MonthStart(month + 1).AddMinutes(10) : world.Now;
                    await importer.StartRowAsync(ct);
                    await importer.WriteAsync(DateOnly.FromDateTime(world.MonthStart(month)), NpgsqlDbType.Date, ct);
                    await importer.WriteAsync(currency, NpgsqlDbType.Char, ct);
                    await importer.WriteAsync(figures.Mrr, NpgsqlDbType.Numeric, ct);
                    await importer.WriteAsync(figures.Active, NpgsqlDbType.Integer, ct);
                    await importer.WriteAsync(figures.New, NpgsqlDbType.Integer, ct);
                    await importer.WriteAsync(figures.ChurnedVoluntary, NpgsqlDbType.Integer, ct);
                    await importer.WriteAsync(figures.ChurnedInvoluntary, NpgsqlDbType.Integer, ct);
                    await importer.WriteAsync(computedAt, NpgsqlDbType.TimestampTz, ct);
                }
            }
            tally.AddRows("mrr_snapshots", (long)await importer.CompleteAsync(ct));
        }
        var audit = DemoAdminAudit.Entries(world, PolicyJson(world.Policy));
        tally.AddRows("audit_log", DemoCopy.AuditEntries(connection, audit));
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
