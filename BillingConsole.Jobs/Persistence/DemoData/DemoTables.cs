using Npgsql;

namespace BillingConsole.Persistence.DemoData;

/// <summary>One of the tables a chunk of customers is written to.</summary>
internal interface IChunkTable
{
    string Table { get; }

    long Write(NpgsqlConnection connection, ChunkOutput chunk);
}

internal sealed class ChunkTable<T>(CopyTable<T> table, Func<ChunkOutput, IReadOnlyList<T>> rows) : IChunkTable
{
    public string Table => table.Table;

    public long Write(NpgsqlConnection connection, ChunkOutput chunk) => table.Write(connection, rows(chunk));
}

internal static class DemoTables
{
    /// <summary>The tables a chunk fills, in foreign-key order.</summary>
    public static async Task<IReadOnlyList<IChunkTable>> DescribeChunkTablesAsync(NpgsqlDataSource dataSource, CancellationToken ct) =>
    [
        await Describe(dataSource, "customers", chunk => chunk.Customers, ct),
        await Describe(dataSource, "payment_methods", chunk => chunk.PaymentMethods, ct),
        await Describe(dataSource, "subscriptions", chunk => chunk.Subscriptions, ct),
        await Describe(dataSource, "invoices", chunk => chunk.Invoices, ct),
        await Describe(dataSource, "invoice_lines", chunk => chunk.InvoiceLines, ct),
        await Describe(dataSource, "payment_attempts", chunk => chunk.PaymentAttempts, ct),
        await Describe(dataSource, "dunning_cases", chunk => chunk.DunningCases, ct),
        await Describe(dataSource, "ledger_entries", chunk => chunk.LedgerEntries, ct),
        await Describe(dataSource, "audit_log", chunk => chunk.AuditEntries, ct),
    ];

    private static async Task<IChunkTable> Describe<T>(NpgsqlDataSource dataSource, string table, Func<ChunkOutput, IReadOnlyList<T>> rows,
        CancellationToken ct) => new ChunkTable<T>(await CopyTable<T>.DescribeAsync(dataSource, table, ct), rows);
}
