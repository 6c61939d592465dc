namespace BillingConsole.Persistence.DemoData;

/// <summary>What the demo holds: rows per table and the ledger's balances. Two runs with the same options give equal summaries.</summary>
public sealed record DemoDataSummary
{
    /// <summary>Rows by table name (customers, invoices, ledger_entries, …), in ordinal order of the name.</summary>
    public required IReadOnlyDictionary<string, long> RowCounts { get; init; }

    /// <summary>The ledger's balance (debits less credits) of each account, by currency and account.</summary>
    public required IReadOnlyList<DemoLedgerBalance> Totals { get; init; }

    /// <summary>Steps the history took (instants at which the engine's passes ran) and customer moves made or refused.</summary>
    public int Steps { get; init; }

    public int Moves { get; init; }

    public int MovesRefused { get; init; }

    public TimeSpan Elapsed { get; init; }

    public long Count(string table) => RowCounts.TryGetValue(table, out var count) ? count : 0;
}

public readonly record struct DemoLedgerBalance(string Currency, string Account, decimal Balance);
