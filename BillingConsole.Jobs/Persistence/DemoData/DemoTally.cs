using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;

namespace BillingConsole.Persistence.DemoData;

/// <summary>
/// Rows written and money per currency, added up chunk by chunk (in whatever order chunks
/// finish: the sums are of amounts with at most four decimals, so they come out the same).
/// </summary>
internal sealed class DemoTally
{
    private readonly SortedDictionary<string, long> _rows = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, MoneyTally> _money = new(StringComparer.Ordinal);

    public void AddRows(string table, long count) => _rows[table] = _rows.GetValueOrDefault(table) + count;

    public IReadOnlyDictionary<string, long> Rows => _rows;

    public void Add(ChunkOutput chunk)
    {
        foreach (var invoice in chunk.Invoices)
        {
            var money = Money(invoice.Currency);
            money.Invoiced += invoice.Total;
            money.CreditApplied += invoice.CreditApplied;
            money.Paid += invoice.AmountPaid;
            money.WrittenOff += invoice.AmountWrittenOff;
            if (invoice.Status == InvoiceStatus.Void) money.Voided += invoice.Total;
            money.OpenReceivable += invoice.AmountDue;
        }
        foreach (var entry in chunk.LedgerEntries)
        {
            if (entry.Kind == LedgerTransactionKind.CreditGranted && entry.Account == LedgerAccount.CustomerCredit)
                Money(entry.Currency).CreditGranted += entry.Credit;
        }
        foreach (var customer in chunk.Customers) Money(customer.Currency).CreditBalance += customer.CreditBalance;
    }

    public IReadOnlyList<DemoMoneyTotals> MoneyTotals() =>
        _money.Select(pair => new DemoMoneyTotals(pair.Key, pair.Value.Invoiced, pair.Value.CreditApplied, pair.Value.Paid,
            pair.Value.WrittenOff, pair.Value.Voided, pair.Value.OpenReceivable, pair.Value.CreditGranted, pair.Value.CreditBalance)).ToList();

    private MoneyTally Money(string currency)
    {
        if (!_money.TryGetValue(currency, out var money)) _money[currency] = money = new MoneyTally();
        return money;
    }

    private sealed class MoneyTally
    {
        public decimal Invoiced;
        public decimal CreditApplied;
        public decimal Paid;
        public decimal WrittenOff;
        public decimal Voided;
        public decimal OpenReceivable;
        public decimal CreditGranted;
        public decimal CreditBalance;
    }
}
