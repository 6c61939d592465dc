using BillingConsole.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.Persistence;

/// <summary>
/// Invoice numbers from one PostgreSQL sequence: unique across nodes without a lock. A rolled-back transaction leaves a gap,
/// which is allowed (numbers are unique and increasing, not gapless).
/// </summary>
public sealed class InvoiceNumbers(NpgsqlDataSource dataSource, IOptionsMonitor<BillingOptions> options)
{
    public const string Sequence = "invoice_number_seq";
    /// <summary>Credit notes have a number series of their own: CN-000001, CN-000002, …</summary>
    public const string CreditNoteSequence = "credit_note_number_seq";
    public const string CreditNotePrefix = "CN-";

    public static string Format(string prefix, long value) => $"{prefix}{value:D6}";

    public async Task<string> NextAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select nextval('{Sequence}')");
        var value = (long)(await command.ExecuteScalarAsync(ct))!;
        return Format(options.CurrentValue.InvoicePrefix, value);
    }

    public async Task<string> NextCreditNoteAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select nextval('{CreditNoteSequence}')");
        return Format(CreditNotePrefix, (long)(await command.ExecuteScalarAsync(ct))!);
    }

    /// <summary>Reserves a block of numbers in one round trip, for a billing chunk.</summary>
    public async Task<IReadOnlyList<string>> NextBlockAsync(int count, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select nextval('{Sequence}') from generate_series(1, $1)");
        command.Parameters.AddWithValue(count);
        var numbers = new List<string>(count);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) numbers.Add(Format(options.CurrentValue.InvoicePrefix, reader.GetInt64(0)));
        return numbers;
    }
}
