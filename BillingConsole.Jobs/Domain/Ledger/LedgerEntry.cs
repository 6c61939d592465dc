using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Ledger;

/// <summary>
/// The chart of accounts. Receivable and cash are assets; revenue, tax payable, customer credit and refunds payable (money
/// received that is owed back) are credit-normal; refunds and discounts (coupons on invoices) are contra-revenue, debit-normal.
/// Chargebacks (money a bank took back in a dispute) and dispute fees are debit-normal losses.
/// </summary>
public enum LedgerAccount { Receivable, Revenue, TaxPayable, Cash, CustomerCredit, BadDebt, Refunds, RefundsPayable, Chargebacks, DisputeFees, Discounts }

public enum LedgerTransactionKind { InvoiceIssued, Payment, CreditApplied, CreditGranted, Refund, WriteOff, WriteOffReversed, InvoiceVoided, PaymentToRefund, CreditNote, Chargeback, ChargebackReversed, CreditDebited }

/// <summary>One line of a balanced double-entry transaction. Exactly one of debit or credit is non-zero.</summary>
public sealed class LedgerEntry
{
    private LedgerEntry() { }

    internal LedgerEntry(Guid transactionId, int lineNumber, LedgerTransactionKind kind, LedgerAccount account, Guid customerId,
        Guid? invoiceId, decimal debit, decimal credit, string currency, DateTimeOffset occurredAt)
    {
        TransactionId = transactionId;
        LineNumber = lineNumber;
        Kind = kind;
        Account = account;
        CustomerId = customerId;
        InvoiceId = invoiceId;
        Debit = debit;
        Credit = credit;
        Currency = currency;
        OccurredAt = occurredAt;
    }

    public long Id { get; private set; }
    public Guid TransactionId { get; private set; }
    public int LineNumber { get; private set; }
    public LedgerTransactionKind Kind { get; private set; }
    public LedgerAccount Account { get; private set; }
    public Guid CustomerId { get; private set; }
    public Guid? InvoiceId { get; private set; }
    public decimal Debit { get; private set; }
    public decimal Credit { get; private set; }
    public string Currency { get; private set; } = "USD";
    public DateTimeOffset OccurredAt { get; private set; }
}

/// <summary>
/// Builds one balanced transaction. Its id is derived from what caused it (kind + source id), so posting the same
/// event twice collides on the ledger's unique key instead of moving money twice.
/// </summary>
public sealed class LedgerTransaction
{
    private readonly List<LedgerEntry> _entries = [];

    public LedgerTransaction(LedgerTransactionKind kind, Guid sourceId, Guid customerId, Guid? invoiceId, string currency, DateTimeOffset occurredAt)
    {
        Kind = kind;
        Id = DeterministicGuid.For($"{kind}:{sourceId:N}");
        CustomerId = customerId;
        InvoiceId = invoiceId;
        Currency = Currencies.Normalize(currency);
        OccurredAt = occurredAt;
    }

    public Guid Id { get; }
    public LedgerTransactionKind Kind { get; }
    public Guid CustomerId { get; }
    public Guid? InvoiceId { get; }
    public string Currency { get; }
    public DateTimeOffset OccurredAt { get; }
    public IReadOnlyList<LedgerEntry> Entries => _entries;

    public LedgerTransaction Debit(LedgerAccount account, Money amount) => Add(account, amount, debit: true);
    public LedgerTransaction Credit(LedgerAccount account, Money amount) => Add(account, amount, debit: false);

    private LedgerTransaction Add(LedgerAccount account, Money amount, bool debit)
    {
        if (amount.Currency != Currency) throw new DomainRuleException("A ledger transaction is in one currency.");
        if (amount.IsNegative) throw new DomainRuleException("Ledger amounts are positive; choose debit or credit.");
        if (amount.IsZero) return this;
        _entries.Add(new LedgerEntry(Id, _entries.Count + 1, Kind, account, CustomerId, InvoiceId,
            debit ? amount.Amount : 0m, debit ? 0m : amount.Amount, Currency, OccurredAt));
        return this;
    }

    /// <summary>The entries, after checking that debits equal credits.</summary>
    public IReadOnlyList<LedgerEntry> Balanced()
    {
        var debits = _entries.Sum(e => e.Debit);
        var credits = _entries.Sum(e => e.Credit);
        if (debits != credits) throw new InvalidOperationException($"Unbalanced {Kind} transaction: debits {debits} ≠ credits {credits}.");
        return _entries;
    }
}
