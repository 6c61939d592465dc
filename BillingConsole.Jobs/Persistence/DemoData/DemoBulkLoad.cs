using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BillingConsole.Persistence.DemoData;

/// <summary>
/// Lifts the secondary indexes and foreign keys of the bulk-loaded tables for the duration of a load and puts them back
/// exactly as the catalog described them (pg_get_indexdef, pg_get_constraintdef). Maintaining a dozen indexes row by row —
/// trigram GIN indexes among them — and checking foreign keys per row makes COPY an order of magnitude slower than
/// building the indexes once at the end; recreating the unique indexes and foreign keys also re-validates every row.
/// Partial indexes on an IN list stay: PostgreSQL deparses such a predicate differently from how the migration wrote it,
/// so recreating them would leave an equivalent but not identical schema (they cover few rows anyway).
/// </summary>
internal sealed class DemoBulkLoad
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly List<(string Name, string Definition)> _indexes;
    private readonly List<(string Table, string Name, string Definition)> _foreignKeys;

    private DemoBulkLoad(NpgsqlDataSource dataSource, ILogger logger, List<(string, string)> indexes, List<(string, string, string)> foreignKeys)
    {
        _dataSource = dataSource;
        _logger = logger;
        _indexes = indexes;
        _foreignKeys = foreignKeys;
    }

    public static async Task<DemoBulkLoad> SuspendAsync(NpgsqlDataSource dataSource, IReadOnlyList<string> tables, ILogger logger, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        var foreignKeys = new List<(string, string, string)>();
        await using (var command = new NpgsqlCommand("""
            select c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
            from pg_constraint c join pg_class t on t.oid = c.conrelid
            where c.contype = 'f' and t.relnamespace = current_schema()::regnamespace and t.relname = any($1)
            order by 1, 2
            """, connection, transaction))
        {
            command.Parameters.AddWithValue(tables.ToArray());
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) foreignKeys.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        var indexes = new List<(string, string)>();
        await using (var command = new NpgsqlCommand("""
            select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            from pg_index i join pg_class t on t.oid = i.indrelid
            where not i.indisprimary and t.relnamespace = current_schema()::regnamespace and t.relname = any($1)
              and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
              and (i.indpred is null or pg_get_expr(i.indpred, i.indrelid) not like '%ANY (%')
            order by 1
            """, connection, transaction))
        {
            command.Parameters.AddWithValue(tables.ToArray());
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) indexes.Add((reader.GetString(0), reader.GetString(1)));
        }

        foreach (var (table, name, _) in foreignKeys)
            await Execute(connection, transaction, $"alter table {table} drop constraint {Quote(name)}", ct);
        foreach (var (name, _) in indexes)
            await Execute(connection, transaction, $"drop index {name}", ct);
        await transaction.CommitAsync(ct);

        logger.LogInformation("Demo data: lifted {Indexes} indexes and {ForeignKeys} foreign keys for the bulk load", indexes.Count, foreignKeys.Count);
        return new DemoBulkLoad(dataSource, logger, indexes, foreignKeys);
    }

    /// <summary>Rebuilds the indexes (a few at a time) and then re-adds and so re-validates the foreign keys.</summary>
    public async Task RestoreAsync(int parallelism, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var largestFirst = await LargestTablesFirstAsync(ct);
        await Parallel.ForEachAsync(largestFirst, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = ct },
            async (definition, token) =>
            {
                await using var connection = await _dataSource.OpenConnectionAsync(token);
                await Execute(connection, null, "set maintenance_work_mem = '256MB'", token);
                await Execute(connection, null, definition, token);
            });
        _logger.LogInformation("Demo data: rebuilt {Indexes} indexes in {Elapsed:0.0} s", _indexes.Count, clock.Elapsed.TotalSeconds);

        clock.Restart();
        await Parallel.ForEachAsync(_foreignKeys, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = ct },
            async (foreignKey, token) =>
            {
                await using var connection = await _dataSource.OpenConnectionAsync(token);
                await Execute(connection, null, "set maintenance_work_mem = '256MB'", token);
                await Execute(connection, null,
                    $"alter table {foreignKey.Table} add constraint {Quote(foreignKey.Name)} {foreignKey.Definition}", token);
            });
        _logger.LogInformation("Demo data: re-validated {ForeignKeys} foreign keys in {Elapsed:0.0} s", _foreignKeys.Count, clock.Elapsed.TotalSeconds);
    }

    private async Task<List<string>> LargestTablesFirstAsync(CancellationToken ct)
    {
        var sizes = new Dictionary<string, long>();
        await using (var sizeCommand = _dataSource.CreateCommand("""
            select relname, pg_relation_size(oid) from pg_class
            where relnamespace = current_schema()::regnamespace and relkind = 'r'
            """))
        await using (var reader = await sizeCommand.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) sizes[reader.GetString(0)] = reader.GetInt64(1);
        }
        return _indexes
            .OrderByDescending(index => sizes.GetValueOrDefault(TableOf(index.Definition)))
            .ThenBy(index => index.Name, StringComparer.Ordinal)
            .Select(index => index.Definition)
            .ToList();
    }

    private static string TableOf(string indexDefinition)
    {
        var on = indexDefinition.IndexOf(" ON ", StringComparison.Ordinal) + 4;
        var table = indexDefinition[on..].Replace("ONLY ", "", StringComparison.Ordinal).Split(' ')[0];
        return table[(table.LastIndexOf('.') + 1)..];
    }

    private static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(ct);
    }
}
