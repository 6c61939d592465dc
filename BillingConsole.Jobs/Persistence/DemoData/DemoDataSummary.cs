namespace BillingConsole.Persistence.DemoData;

/// <summary>What was written: rows per table and money per currency. Two runs with the same options give equal summaries.</summary>
public sealed record DemoDataSummary
{
    /// <summary>Rows written, by table name (customers, invoices, ledger_entries, …), in ordinal order of the name.</summary>
    public required IReadOnlyDictionary<string, long> RowCounts { get; init; }

    /// <summary>Money totals, one entry per currency, ordered by currency code.</summary>
    public required IReadOnlyList<DemoMoneyTotals> Totals { get; init; }

    public TimeSpan Elapsed { get; init; }

    public long Count(string table) => RowCounts.TryGetValue(table, out var count) ? count : 0;
}

/// <summary>
/// One currency's money. Every invoiced amount ends up in exactly one place:
/// <c>Invoiced = CreditApplied + Paid + WrittenOff + Voided + OpenReceivable</c>, and
/// <c>CreditGranted = CreditApplied + CreditBalance</c>.
/// </summary>
public readonly record struct DemoMoneyTotals(
    string Currency,
    decimal Invoiced,
    decimal CreditApplied,
    decimal Paid,
    decimal WrittenOff,
    decimal Voided,
    decimal OpenReceivable,
    decimal CreditGranted,
    decimal CreditBalance);
