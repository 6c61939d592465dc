using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Subscriptions;

namespace BillingConsole.Persistence.DemoData;

/// <summary>
/// Rows written, money per currency and month-by-month revenue figures, added up chunk by chunk (in whatever order chunks
/// finish: the sums are of amounts with at most four decimals, so they come out the same).
/// </summary>
internal sealed class DemoTally(DemoWorld world)
{
    private readonly SortedDictionary<string, long> _rows = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, MoneyTally> _money = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, MonthTally[]> _months = new(StringComparer.Ordinal);

    public void AddRows(string table, long count) => _rows[table] = _rows.GetValueOrDefault(table) + count;

    public IReadOnlyDictionary<string, long> Rows => _rows;

    public IReadOnlyDictionary<string, MonthTally[]> Months => _months;

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
        foreach (var subscription in chunk.Subscriptions) AddMonths(subscription);
    }

    public IReadOnlyList<DemoMoneyTotals> MoneyTotals() =>
        _money.Select(pair => new DemoMoneyTotals(pair.Key, pair.Value.Invoiced, pair.Value.CreditApplied, pair.Value.Paid,
            pair.Value.WrittenOff, pair.Value.Voided, pair.Value.OpenReceivable, pair.Value.CreditGranted, pair.Value.CreditBalance)).ToList();

    private MoneyTally Money(string currency)
    {
        if (!_money.TryGetValue(currency, out var money)) _money[currency] = money = new MoneyTally();
        return money;
    }

    private void AddMonths(SubscriptionRow subscription)
    {
        var currency = subscription.Price.Currency;
        if (!_months.TryGetValue(currency, out var months)) _months[currency] = months = new MonthTally[world.Months];

        var created = world.MonthOf(subscription.CreatedAt);
        if (created >= 0 && created < months.Length) months[created].New++;

        var timeline = subscription.Timeline;
        if (subscription is { Status: SubscriptionStatus.Canceled, CanceledAt: { } canceledAt } && timeline.Count >= 2
            && timeline[^2].Status is SubscriptionStatus.Active or SubscriptionStatus.PastDue or SubscriptionStatus.Unpaid)
        {
            var month = world.MonthOf(canceledAt);
            if (month >= 0 && month < months.Length)
            {
                if (subscription.CancellationKind == CancellationKind.Involuntary) months[month].ChurnedInvoluntary++;
                else months[month].ChurnedVoluntary++;
            }
        }

        var step = -1;
        for (var month = 0; month < months.Length; month++)
        {
            var instant = world.SnapshotInstant(month);
            while (step + 1 < timeline.Count && timeline[step + 1].At <= instant) step++;
            if (step < 0) continue;
            var (_, status, price, quantity) = timeline[step];
            if (status is not (SubscriptionStatus.Active or SubscriptionStatus.PastDue)) continue;
            if (price.Interval == BillingInterval.Year) months[month].YearlyAmounts += price.Amount * quantity;
            else months[month].MonthlyAmounts += price.Amount * quantity;
            months[month].Active++;
        }
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

internal struct MonthTally
{
    // Yearly prices are summed apart and divided once, so the total does not depend on the order chunks finish in.
    public decimal MonthlyAmounts;
    public decimal YearlyAmounts;
    public int Active;
    public int New;
    public int ChurnedVoluntary;
    public int ChurnedInvoluntary;

    public readonly decimal Mrr => Math.Round(MonthlyAmounts + YearlyAmounts / 12m, 4, MidpointRounding.AwayFromZero);
}
