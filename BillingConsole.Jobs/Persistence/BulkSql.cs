using BillingConsole.Domain.Common;
using BillingConsole.Domain.Ledger;
using Npgsql;
using NpgsqlTypes;

namespace BillingConsole.Persistence;

/// <summary>The pieces the batched writers share: ledger entries through binary COPY, nullable COPY values, and array parameters for unnest.</summary>
internal static class BulkSql
{
    public static async Task CopyLedgerEntriesAsync(NpgsqlConnection connection, IReadOnlyList<LedgerEntry> entries, CancellationToken ct)
    {
        if (entries.Count == 0) return;
        await using var ledger = await connection.BeginBinaryImportAsync(
            "copy ledger_entries (transaction_id, line_number, kind, account, customer_id, invoice_id, debit, credit, currency, occurred_at) from stdin (format binary)", ct);
        foreach (var entry in entries)
        {
            await ledger.StartRowAsync(ct);
            await ledger.WriteAsync(entry.TransactionId, NpgsqlDbType.Uuid, ct);
            await ledger.WriteAsync(entry.LineNumber, NpgsqlDbType.Integer, ct);
            await ledger.WriteAsync(entry.Kind.ToSnakeCase(), NpgsqlDbType.Text, ct);
            await ledger.WriteAsync(entry.Account.ToSnakeCase(), NpgsqlDbType.Text, ct);
            await ledger.WriteAsync(entry.CustomerId, NpgsqlDbType.Uuid, ct);
            if (entry.InvoiceId is { } invoiceId) await ledger.WriteAsync(invoiceId, NpgsqlDbType.Uuid, ct);
            else await ledger.WriteNullAsync(ct);
            await ledger.WriteAsync(entry.Debit, NpgsqlDbType.Numeric, ct);
            await ledger.WriteAsync(entry.Credit, NpgsqlDbType.Numeric, ct);
            await ledger.WriteAsync(entry.Currency, NpgsqlDbType.Text, ct);
            await ledger.WriteAsync(entry.OccurredAt, NpgsqlDbType.TimestampTz, ct);
        }
        await ledger.CompleteAsync(ct);
    }

    /// <summary>Writes the value, or NULL when there is none.</summary>
    public static Task WriteNullableAsync<T>(this NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken ct) where T : struct =>
        value is { } present ? copy.WriteAsync(present, type, ct) : copy.WriteNullAsync(ct);

    public static NpgsqlBatchCommand Statement(string sql, params object[] values)
    {
        var statement = new NpgsqlBatchCommand(sql);
        foreach (var value in values) statement.Parameters.Add(new NpgsqlParameter { Value = value });
        return statement;
    }

    /// <summary>Adds <paramref name="values"/> as one array parameter, for unnest.</summary>
    public static void Add<T>(NpgsqlCommand command, IEnumerable<T> values) => command.Parameters.Add(new NpgsqlParameter<T[]> { TypedValue = [.. values] });

    /// <summary>Adds <paramref name="values"/> as one array parameter named <paramref name="name"/> (<c>@name</c> in the statement), for unnest.</summary>
    public static void AddNamed<T>(NpgsqlCommand command, string name, IEnumerable<T> values) =>
        command.Parameters.Add(new NpgsqlParameter<T[]>(name, [.. values]));
}
