using BillingConsole.Domain.Audit;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Ledger;

namespace BillingConsole.Persistence.DemoData;

/// <summary>
/// What one chunk of customers produced. The planning pass only needs its invoice counts per day (so that invoice numbers
/// can follow issue dates across all chunks) and billing-run figures, and skips the ledger, the audit trail and line texts;
/// the writing pass numbers the invoices and keeps everything.
/// </summary>
internal sealed class ChunkOutput
{
    private readonly DemoWorld _world;
    private readonly int[]? _numberBase;

    public ChunkOutput(DemoWorld world, int[]? numberBase)
    {
        _world = world;
        _numberBase = numberBase;
        InvoicesPerDay = new int[world.DayCount];
        Runs = new RunTally[world.DayCount];
    }

    /// <summary>False in the planning pass: whatever draws nothing from the random source may be skipped.</summary>
    public bool WantsRows => _numberBase is not null;

    public int[] InvoicesPerDay { get; }
    public RunTally[] Runs { get; }

    public List<CustomerRow> Customers { get; } = [];
    public List<PaymentMethodRow> PaymentMethods { get; } = [];
    public List<SubscriptionRow> Subscriptions { get; } = [];
    public List<InvoiceRow> Invoices { get; } = [];
    public List<InvoiceLineRow> InvoiceLines { get; } = [];
    public List<PaymentAttemptRow> PaymentAttempts { get; } = [];
    public List<DunningCaseRow> DunningCases { get; } = [];
    public List<LedgerEntry> LedgerEntries { get; } = [];
    public List<AuditEntry> AuditEntries { get; } = [];

    /// <summary>The next invoice number on the invoice's issue day: numbers run in issue-date order over the whole data set.</summary>
    public string NextInvoiceNumber(DateTime issuedAt)
    {
        var day = _world.DayOf(issuedAt);
        var local = InvoicesPerDay[day]++;
        return _numberBase is null ? string.Empty : InvoiceNumbers.Format("INV-", _numberBase[day] + local + 1L);
    }

    public void RecordRunInvoice(DateTime issuedAt) => Runs[_world.DayOf(issuedAt)].Invoiced++;

    public void RecordRunCharge(DateTime issuedAt, PaymentAttemptRow attempt)
    {
        ref var run = ref Runs[_world.DayOf(issuedAt)];
        // As the engine counts a run: charged are the successes, failed the rest, never both.
        if (attempt.Status == Domain.Payments.PaymentAttemptStatus.Succeeded) run.Charged++;
        else run.Failed++;
        if (attempt.CompletedAt > run.LastCompletion) run.LastCompletion = attempt.CompletedAt;
    }

    public void Audit(string actor, string role, string action, string entityType, Guid entityId, string reason, string? before, string? after, DateTime at)
    {
        if (WantsRows) AuditEntries.Add(new AuditEntry(actor, role, action, entityType, entityId.ToString(), reason, before, after, Utc(at)));
    }

    // Ledger postings: the same accounts, kinds and transaction ids as Domain.Ledger.LedgerTransaction makes.

    public void PostInvoiceIssued(InvoiceRow invoice)
    {
        if (!WantsRows) return;
        Post(Transaction(LedgerTransactionKind.InvoiceIssued, invoice.Id, invoice, invoice.IssuedAt)
            .Debit(LedgerAccount.Receivable, Money(invoice.Total, invoice))
            .Credit(LedgerAccount.Revenue, Money(invoice.Subtotal, invoice))
            .Credit(LedgerAccount.TaxPayable, Money(invoice.Tax, invoice)));
        if (invoice.CreditApplied > 0m)
        {
            Post(Transaction(LedgerTransactionKind.CreditApplied, invoice.Id, invoice, invoice.IssuedAt)
                .Debit(LedgerAccount.CustomerCredit, Money(invoice.CreditApplied, invoice))
                .Credit(LedgerAccount.Receivable, Money(invoice.CreditApplied, invoice)));
        }
    }

    public void PostPayment(InvoiceRow invoice, PaymentAttemptRow attempt)
    {
        if (!WantsRows) return;
        Post(Transaction(LedgerTransactionKind.Payment, attempt.Id, invoice, attempt.CompletedAt)
            .Debit(LedgerAccount.Cash, Money(attempt.Amount, invoice))
            .Credit(LedgerAccount.Receivable, Money(attempt.Amount, invoice)));
    }

    public void PostWriteOff(InvoiceRow invoice, DateTime at)
    {
        if (!WantsRows) return;
        Post(Transaction(LedgerTransactionKind.WriteOff, invoice.Id, invoice, at)
            .Debit(LedgerAccount.BadDebt, Money(invoice.AmountWrittenOff, invoice))
            .Credit(LedgerAccount.Receivable, Money(invoice.AmountWrittenOff, invoice)));
    }

    public void PostVoid(InvoiceRow invoice, DateTime at)
    {
        if (!WantsRows) return;
        Post(Transaction(LedgerTransactionKind.InvoiceVoided, invoice.Id, invoice, at)
            .Debit(LedgerAccount.Revenue, Money(invoice.Subtotal, invoice))
            .Debit(LedgerAccount.TaxPayable, Money(invoice.Tax, invoice))
            .Credit(LedgerAccount.Receivable, Money(invoice.Total, invoice)));
    }

    public void PostCreditGranted(Guid grantId, Guid customerId, string currency, decimal amount, DateTime at)
    {
        if (!WantsRows) return;
        var money = new Money(amount, currency);
        Post(new LedgerTransaction(LedgerTransactionKind.CreditGranted, grantId, customerId, null, currency, Utc(at))
            .Debit(LedgerAccount.Refunds, money)
            .Credit(LedgerAccount.CustomerCredit, money));
    }

    private static LedgerTransaction Transaction(LedgerTransactionKind kind, Guid sourceId, InvoiceRow invoice, DateTime at) =>
        new(kind, sourceId, invoice.CustomerId, invoice.Id, invoice.Currency, Utc(at));

    private static Money Money(decimal amount, InvoiceRow invoice) => new(amount, invoice.Currency);

    private void Post(LedgerTransaction transaction) => LedgerEntries.AddRange(transaction.Balanced());

    private static DateTimeOffset Utc(DateTime at) => new(DateTime.SpecifyKind(at, DateTimeKind.Utc));
}

/// <summary>One day's billing run: invoices it wrote, charges that succeeded, charges that failed, when the last charge finished.</summary>
internal struct RunTally
{
    public int Invoiced;
    public int Charged;
    public int Failed;
    public DateTime LastCompletion;

    public void Add(in RunTally other)
    {
        Invoiced += other.Invoiced;
        Charged += other.Charged;
        Failed += other.Failed;
        if (other.LastCompletion > LastCompletion) LastCompletion = other.LastCompletion;
    }
}
