using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using static BillingConsole.Persistence.DemoData.DemoReplicaSchema;

namespace BillingConsole.Persistence.DemoData;

/// <summary>What to replicate to: the customer count the database should hold, and the seed of the copies' names.</summary>
public sealed record DemoReplicaOptions
{
    /// <summary>Customers (not on a test clock) the database holds afterwards, the base included.</summary>
    public required int Customers { get; init; }

    /// <summary>Seeds the copies' names, emails and external references. The same base and seed give the same rows.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Copies written per transaction: each table gets one insert per batch.</summary>
    public int BatchCustomers { get; init; } = 2000;
}

/// <summary>What a replication wrote: rows per table, the base's size, the copies made and the time of each phase.</summary>
public sealed record DemoReplicaSummary(int BaseCustomers, int Copies, IReadOnlyDictionary<string, long> RowsCopied,
    IReadOnlyDictionary<string, TimeSpan> Phases, TimeSpan Elapsed)
{
    public long Rows => RowsCopied.Values.Sum();
}

/// <summary>
/// Grows an engine-made base population to a target customer count by copying whole customers: copy k of base customer c
/// gets every row reachable from c (tables found from the catalog, see <see cref="DemoReplicaSchema"/>), with new ids,
/// names and unique texts, so every copied row is one the engine wrote for another customer and nothing is computed anew.
/// Afterwards the billing runs' counters are recounted from their invoices and attempts, invoice and credit note numbers
/// run in issue order over the whole data set, and the analytics queues have been filled by the tables' own triggers
/// (the caller runs the MRR recording and the folds). Meant for an engine-made base in a database that holds nothing else.
/// </summary>
/// <remarks>
/// The base rows are first set aside in a work schema with their owning customer, so each batch joins small tables and
/// never the growing ones; each batch is one transaction of one insert … select per table. Indexes and foreign keys of
/// the copied tables are lifted for the load and rebuilt, and so re-validated, at the end (<see cref="DemoBulkLoad"/>).
/// </remarks>
public sealed class DemoReplicator(NpgsqlDataSource dataSource, ILogger<DemoReplicator> logger)
{
    private static readonly int Writers = Math.Clamp(Environment.ProcessorCount, 1, 4);

    public async Task<DemoReplicaSummary> ReplicateAsync(DemoReplicaOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.BatchCustomers < 1) throw new ArgumentException("BatchCustomers must be at least 1.", nameof(options));
        var clock = Stopwatch.StartNew();
        var tables = await DescribeAsync(dataSource, ct);
        await ExecuteAsync($"drop schema if exists {WorkSchema} cascade; create schema {WorkSchema}; {RemapTextFunction}", ct);
        try
        {
            var bases = await SnapshotBaseAsync(tables, ct);
            if (bases.Count == 0) throw new InvalidOperationException("The database has no customers to copy: make the base population first.");
            var copies = options.Customers - bases.Count;
            if (copies <= 0)
                return new DemoReplicaSummary(bases.Count, 0, new Dictionary<string, long>(), new Dictionary<string, TimeSpan>(), clock.Elapsed);
            await WriteCopiesAsync(bases, copies, options.Seed, ct);
            var phases = new Dictionary<string, TimeSpan> { ["set aside the base and plan the copies"] = clock.Elapsed };
            var phase = Stopwatch.StartNew();
            logger.LogInformation("Demo replica: {Base} base customers set aside, {Copies} copies planned in {Elapsed:0.0} s",
                bases.Count, copies, clock.Elapsed.TotalSeconds);

            var rows = tables.ToDictionary(table => table.Name, _ => 0L);
            var bulkLoad = await DemoBulkLoad.SuspendAsync(dataSource, [.. tables.Select(table => table.Name)], logger, ct);
            try
            {
                await CopyInBatchesAsync(tables, copies, options.BatchCustomers, rows, clock, ct);
                phases["copy"] = phase.Elapsed;
                phase.Restart();
                await RecountBillingRunsAsync(ct);
                await RenumberAsync("invoices", InvoiceNumbers.Sequence, ct);
                await RenumberAsync("credit_notes", InvoiceNumbers.CreditNoteSequence, ct);
                phases["recount runs, renumber"] = phase.Elapsed;
            }
            finally
            {
                phase.Restart();
                await bulkLoad.RestoreAsync(Writers, CancellationToken.None);
                phases["rebuild indexes and foreign keys"] = phase.Elapsed;
            }
            phase.Restart();
            await ExecuteAsync("analyze", ct);
            phases["analyze"] = phase.Elapsed;
            var summary = new DemoReplicaSummary(bases.Count, copies, rows, phases, clock.Elapsed);
            logger.LogInformation("Demo replica: {Copies} copies of {Base} customers, {Rows} rows in {Elapsed:0.0} s ({Tables})",
                copies, bases.Count, summary.Rows, summary.Elapsed.TotalSeconds,
                string.Join(", ", rows.Where(r => r.Value > 0).Select(r => $"{r.Key} {r.Value}")));
            return summary;
        }
        finally
        {
            await ExecuteAsync($"drop schema if exists {WorkSchema} cascade", CancellationToken.None);
        }
    }

    /// <summary>Sets each table's base rows aside with their customer; returns the base customers in sign-up order.</summary>
    private async Task<List<(Guid Id, string Name)>> SnapshotBaseAsync(IReadOnlyList<DemoReplicaTable> tables, CancellationToken ct)
    {
        foreach (var table in tables)
        {
            var textParts = string.Concat(table.Columns.Where(column => column.RemapsText).Select(column => ", " + TextParts(column.Name)));
            var select = table.OwnerParent is null
                ? $"select b.*{textParts}, b.id as demo_owner from {Quote(table.Name)} b where b.{BaseCustomers}"
                : $"select b.*{textParts}, p.demo_owner from {Quote(table.Name)} b join {WorkSchema}.{Quote(table.OwnerParent)} p on p.{Quote(table.OwnerParentColumn!)} = b.{Quote(table.OwnerColumn!)}";
            await ExecuteAsync($"create unlogged table {table.Snapshot} as {select}; create index on {table.Snapshot} (demo_owner); analyze {table.Snapshot}", ct);
        }
        var bases = new List<(Guid, string)>();
        await using var command = dataSource.CreateCommand($"select id, name from {WorkSchema}.customers order by created_at, id");
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) bases.Add((reader.GetGuid(0), reader.GetString(1)));
        return bases;
    }

    /// <summary>
    /// The copies, numbered 0…: copy n is copy number n / K + 1 of base customer n mod K, so every round copies the whole
    /// base once and a count that is not a multiple of K copies the earliest customers once more.
    /// </summary>
    private async Task WriteCopiesAsync(List<(Guid Id, string Name)> bases, int copies, int seed, CancellationToken ct)
    {
        await ExecuteAsync($"""
            create unlogged table {WorkSchema}.copies (
                ordinal int primary key, base_id uuid not null, copy_number int not null,
                name text not null, email text not null, external_ref text not null, base_name text, base_email text,
                new_id uuid generated always as (md5(base_id::text || ':' || copy_number)::uuid) stored)
            """, ct);
        var people = new DemoReplicaPeople(seed);
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        await using (var importer = await connection.BeginBinaryImportAsync(
            $"copy {WorkSchema}.copies (ordinal, base_id, copy_number, name, email, external_ref) from stdin (format binary)", ct))
        {
            for (var ordinal = 0; ordinal < copies; ordinal++)
            {
                var (original, copyNumber) = (bases[ordinal % bases.Count], ordinal / bases.Count + 1);
                var person = people.Copy(ordinal, ordinal % bases.Count, copyNumber, original.Name);
                await importer.StartRowAsync(ct);
                await importer.WriteAsync(ordinal, NpgsqlDbType.Integer, ct);
                await importer.WriteAsync(original.Id, NpgsqlDbType.Uuid, ct);
                await importer.WriteAsync(copyNumber, NpgsqlDbType.Integer, ct);
                await importer.WriteAsync(person.Name, NpgsqlDbType.Text, ct);
                await importer.WriteAsync(person.Email, NpgsqlDbType.Text, ct);
                await importer.WriteAsync(person.ExternalRef, NpgsqlDbType.Text, ct);
            }
            await importer.CompleteAsync(ct);
        }
        await ExecuteAsync($"""
            update {WorkSchema}.copies k set base_name = c.name, base_email = c.email from {WorkSchema}.customers c where c.id = k.base_id;
            create index on {WorkSchema}.copies (base_id);
            analyze {WorkSchema}.copies
            """, ct);
    }

    private async Task CopyInBatchesAsync(IReadOnlyList<DemoReplicaTable> tables, int copies, int batchSize, Dictionary<string, long> rows,
        Stopwatch clock, CancellationToken ct)
    {
        var statements = tables.Select(InsertStatement).ToList();
        var batches = Enumerable.Range(0, (copies + batchSize - 1) / batchSize).Select(b => (From: b * batchSize, To: Math.Min(copies, (b + 1) * batchSize))).ToList();
        var done = 0;
        var reportEvery = Math.Max(1, batches.Count / 10);
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = Writers, CancellationToken = ct }, async (range, token) =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(token);
            await using var transaction = await connection.BeginTransactionAsync(token);
            await using var batch = new NpgsqlBatch(connection, transaction) { Timeout = 0 };
            batch.BatchCommands.Add(new NpgsqlBatchCommand("set local synchronous_commit = off"));
            foreach (var statement in statements)
                batch.BatchCommands.Add(new NpgsqlBatchCommand(statement) { Parameters = { new() { Value = range.From }, new() { Value = range.To } } });
            await batch.ExecuteNonQueryAsync(token);
            await transaction.CommitAsync(token);
            lock (rows)
            {
                for (var i = 0; i < tables.Count; i++) rows[tables[i].Name] += batch.BatchCommands[i + 1].RecordsAffected;
            }
            var finished = Interlocked.Increment(ref done);
            if (finished % reportEvery == 0 || finished == batches.Count)
                logger.LogInformation("Demo replica: {Done}/{Batches} batches copied, {Elapsed:0.0} s", finished, batches.Count, clock.Elapsed.TotalSeconds);
        });
    }

    private static string InsertStatement(DemoReplicaTable table)
    {
        var columns = table.Columns.Where(column => column.CopyExpression is not null).ToList();
        return $"""
            insert into {Quote(table.Name)} ({string.Join(", ", columns.Select(column => Quote(column.Name)))})
            select {string.Join(", ", columns.Select(column => column.CopyExpression))}
            from {table.Snapshot} b join {WorkSchema}.copies k on k.base_id = b.demo_owner
            where k.ordinal >= $1 and k.ordinal < $2
            """;
    }

    /// <summary>
    /// Runs are shared rows: each chunk takes its subscriptions' copies into its list, and every count is read again from
    /// the rows, as the chunk writer counts them: invoices the run wrote for the chunk's subscriptions, and their billing
    /// run charges that succeeded or failed (unknown counts as failed).
    /// </summary>
    private Task RecountBillingRunsAsync(CancellationToken ct) => ExecuteAsync($"""
        update billing_run_chunks c set subscription_ids = c.subscription_ids || x.copied
        from (select c.run_id, c.number, array_agg({MapId("s.id")} order by k.ordinal, s.position) copied
              from billing_run_chunks c cross join lateral unnest(c.subscription_ids) with ordinality s(id, position)
              join {WorkSchema}.subscriptions b on b.id = s.id join {WorkSchema}.copies k on k.base_id = b.demo_owner
              group by c.run_id, c.number) x
        where x.run_id = c.run_id and x.number = c.number;

        with invoiced as (
            select c.run_id, c.number, i.id
            from billing_run_chunks c cross join lateral unnest(c.subscription_ids) s(id)
            join invoices i on i.billing_run_id = c.run_id and i.subscription_id = s.id),
        counted as (
            select v.run_id, v.number, count(distinct v.id)::int invoiced,
                   count(a.id) filter (where a.status = 'succeeded')::int charged,
                   count(a.id) filter (where a.status in ('failed', 'unknown'))::int failed
            from invoiced v left join payment_attempts a on a.invoice_id = v.id and a.trigger = 'billing_run'
            group by v.run_id, v.number)
        update billing_run_chunks c set invoiced_count = coalesce(x.invoiced, 0), charged_count = coalesce(x.charged, 0),
                                        failed_count = coalesce(x.failed, 0)
        from billing_run_chunks c0 left join counted x on x.run_id = c0.run_id and x.number = c0.number
        where c0.run_id = c.run_id and c0.number = c.number;

        update billing_runs r set due_count = x.due, invoiced_count = x.invoiced, charged_count = x.charged, failed_count = x.failed
        from (select run_id, sum(cardinality(subscription_ids))::int due, sum(invoiced_count)::int invoiced,
                     sum(charged_count)::int charged, sum(failed_count)::int failed
              from billing_run_chunks group by run_id) x
        where x.run_id = r.id
        """, ct);

    /// <summary>
    /// Numbers every numbered row of <paramref name="table"/> again in issue order from the sequence's start, each with its own
    /// prefix, in <see cref="InvoiceNumbers.Format"/>'s shape (at least six digits), and sets the sequence past the last.
    /// Emails about an invoice name its new number.
    /// </summary>
    private async Task RenumberAsync(string table, string sequence, CancellationToken ct)
    {
        var numbers = $"{WorkSchema}.{table}_numbers";
        await ExecuteAsync($"""
            create unlogged table {numbers} as
            select x.id, x.original, x.prefix || lpad(x.value::text, greatest(6, length(x.value::text)), '0') as number, x.value
            from (select t.id, {OriginalText("t.number")} as original, regexp_replace({OriginalText("t.number")}, '[0-9]+$', '') as prefix,
                         s.start_value + row_number() over (order by t.issued_at nulls last, t.id) - 1 as value
                  from {table} t cross join pg_sequences s
                  where t.number is not null and s.schemaname = current_schema() and s.sequencename = '{sequence}') x;
            update {table} t set number = n.number from {numbers} n where n.id = t.id;
            select setval('{sequence}', max(value)) from {numbers} having count(*) > 0
            """, ct);
        if (table == "invoices")
            await ExecuteAsync($"""
                update notifications t set subject = replace(t.subject, n.original, n.number)
                from {numbers} n where n.id = t.invoice_id and t.subject is not null
                """, ct);
    }

    private async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(ct);
    }
}
