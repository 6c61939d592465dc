using System.Diagnostics;
using Dapper;
using Npgsql;

namespace BillingConsole.Commands;

/// <summary>
/// The database's own ceiling for a benchmark: the rows it wrote, copied by binary COPY into scratch tables made
/// <c>like</c> the run's tables (same columns, indexes, checks and storage parameters; foreign keys aside) with the same
/// time-ordered ids.
/// Each table's rows are first exported to a file, so only the COPY into the database is timed. The scratch tables are
/// dropped afterwards.
/// </summary>
public static class CopyReference
{
    public sealed record TableCopy(string Table, long Rows, TimeSpan Elapsed);

    public sealed record Result(IReadOnlyList<TableCopy> Tables)
    {
        public long Rows => Tables.Sum(t => t.Rows);

        public TimeSpan Elapsed => TimeSpan.FromTicks(Tables.Sum(t => t.Elapsed.Ticks));
    }

    /// <summary>
    /// The rows billing run <paramref name="runId"/> wrote, table by table: its invoices, their lines, ledger entries and
    /// attempts, its subscriptions, and the emails and dunning cases of its invoices with the cases' audit entries. The rows
    /// the analytics' triggers queue are not counted: their fold deletes them, so they cannot be read back afterwards.
    /// </summary>
    public static (string Table, string Where)[] BillingRunRows(Guid runId)
    {
        // COPY takes no parameters; a Guid's text is safe to inline.
        var run = $"'{runId}'::uuid";
        var runInvoices = $"select id from invoices where billing_run_id = {run}";
        var runCases = $"select id from dunning_cases where invoice_id in ({runInvoices})";
        return
        [
            ("invoices", $"billing_run_id = {run}"),
            ("invoice_lines", $"invoice_id in ({runInvoices})"),
            ("ledger_entries", $"invoice_id in ({runInvoices})"),
            ("payment_attempts", $"invoice_id in ({runInvoices})"),
            ("subscriptions", $"id in (select unnest(subscription_ids) from billing_run_chunks where run_id = {run})"),
            ("notifications", $"invoice_id in ({runInvoices})"),
            ("dunning_cases", $"invoice_id in ({runInvoices})"),
            // The cases' ids gathered first and then looked up along the audit log's entity index: a semi-join, planned on the
            // statistics of tables the run had just filled, scanned the cases once per entry (7 s at 100,000).
            ("audit_log", $"entity_type = 'dunning_case' and entity_id = any(array(select id::text from ({runCases}) c))"),
        ];
    }

    /// <summary>Times the COPY of the rows billing run <paramref name="runId"/> wrote (<see cref="BillingRunRows"/>).</summary>
    public static Task<Result> MeasureBillingRunAsync(NpgsqlDataSource dataSource, Guid runId, CancellationToken ct) =>
        MeasureAsync(dataSource, BillingRunRows(runId), ct);

    /// <summary>Times the COPY of the rows of each table that match its condition (SQL, inlined: only the benchmarks' own text).</summary>
    public static async Task<Result> MeasureAsync(NpgsqlDataSource dataSource, IReadOnlyList<(string Table, string Where)> tables, CancellationToken ct)
    {
        var copies = new List<TableCopy>();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        foreach (var (table, where) in tables)
        {
            var scratch = $"copy_reference_{table}";
            // Identity and generated columns are left for the scratch table to fill, as the run's inserts leave them.
            var columns = string.Join(", ", await connection.QueryAsync<string>("""
                select column_name from information_schema.columns
                where table_schema = current_schema() and table_name = @table and is_identity = 'NO' and is_generated = 'NEVER'
                order by ordinal_position
                """, new { table }));
            await connection.ExecuteAsync($"drop table if exists {scratch}; create table {scratch} (like {table} including all)");
            // The storage parameters too (a fillfactor that leaves room on each page), which "like" does not carry over.
            var storage = await connection.ExecuteScalarAsync<string?>(
                "select array_to_string(reloptions, ', ') from pg_class where oid = @table::regclass", new { table });
            if (!string.IsNullOrEmpty(storage)) await connection.ExecuteAsync($"alter table {scratch} set ({storage})");
            var file = Path.GetTempFileName();
            try
            {
                await using (var export = await connection.BeginRawBinaryCopyAsync($"copy (select {columns} from {table} where {where}) to stdout (format binary)", ct))
                await using (var output = File.Create(file))
                    await export.CopyToAsync(output, ct);

                var started = Stopwatch.GetTimestamp();
                await using (var input = File.OpenRead(file))
                await using (var import = await connection.BeginRawBinaryCopyAsync($"copy {scratch} ({columns}) from stdin (format binary)", ct))
                    await input.CopyToAsync(import, ct);
                var elapsed = Stopwatch.GetElapsedTime(started);
                copies.Add(new TableCopy(table, await connection.ExecuteScalarAsync<long>($"select count(*) from {scratch}"), elapsed));
            }
            finally
            {
                File.Delete(file);
                await connection.ExecuteAsync($"drop table if exists {scratch}");
            }
        }
        return new Result(copies);
    }
}
