using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using static BillingConsole.Domain.Ledger.LedgerAccount;

namespace BillingConsole.Engine;

/// <summary>
/// The double-entry transactions of every money movement. Each method returns balanced transactions (empty ones are
/// left out), with ids derived from their cause, so posting one event twice collides instead of counting twice.
/// </summary>
/// <remarks>
/// Receivable, cash, bad debt and refunds (contra revenue) are debit-normal; revenue, tax payable, customer credit and
/// refunds payable are credit-normal. Call each method after the domain change it records, with the amount the domain returned.
/// </remarks>
public static class LedgerPostings
{
    /// <summary>
    /// Dr receivable (total), Cr revenue (subtotal before discounts), Dr discounts (the discount lines, contra-revenue),
    /// Cr tax payable (tax). A negative total — credits beyond the charges —
    /// becomes customer credit: Dr revenue, Cr customer credit. Credit applied at issue is a second transaction:
    /// Dr customer credit, Cr receivable.
    /// </summary>
    public static IReadOnlyList<LedgerTransaction> InvoiceIssued(Invoice invoice)
    {
        var at = invoice.IssuedAt ?? throw new DomainRuleException("Only an issued invoice is posted.");
        var zero = Money.Zero(invoice.Currency);
        var issued = Transaction(LedgerTransactionKind.InvoiceIssued, invoice.Id, invoice, at)
            .Debit(Receivable, Money.Max(invoice.Total, zero))
            .Credit(CustomerCredit, Money.Max(-invoice.Total, zero));
        CreditSigned(issued, Revenue, invoice.Subtotal + invoice.Discount);
        issued.Debit(Discounts, invoice.Discount);
        CreditSigned(issued, TaxPayable, invoice.Tax);
        return Posted(issued, CreditAppliedTransaction(invoice, invoice.Id, invoice.CreditApplied, at));
    }

    /// <summary>Credit applied to an open invoice after it was issued: Dr customer credit, Cr receivable.</summary>
    public static IReadOnlyList<LedgerTransaction> CreditApplied(Invoice invoice, Guid applicationId, Money amount, DateTimeOffset at) =>
        Posted(CreditAppliedTransaction(invoice, applicationId, amount, at));

    /// <summary>
    /// Dr cash, Cr receivable. Paying an invoice that was written off first reverses the write-off
    /// (Dr receivable, Cr bad debt), so the payment clears a receivable that exists again.
    /// </summary>
    public static IReadOnlyList<LedgerTransaction> Payment(Invoice invoice, Guid paymentId, Money amount, DateTimeOffset at)
    {
        if (invoice.Status != InvoiceStatus.Paid) throw new DomainRuleException("Post a payment after the invoice is paid.");
        var payment = Transaction(LedgerTransactionKind.Payment, paymentId, invoice, at).Debit(Cash, amount).Credit(Receivable, amount);
        return invoice.MarkedUncollectibleAt is not { } writtenOffAt
            ? Posted(payment)
            : [.. WriteOffReversed(invoice, amount, writtenOffAt, at), .. Posted(payment)];
    }

    /// <summary>
    /// Dr cash, Cr refunds payable: money the gateway took for an invoice already settled (paid by another attempt, or voided).
    /// It is owed back to the customer, so it touches neither the invoice's receivable nor the customer's credit.
    /// </summary>
    public static IReadOnlyList<LedgerTransaction> PaymentToRefund(Invoice invoice, Guid paymentId, Money amount, DateTimeOffset at)
    {
        if (invoice.Status is not (InvoiceStatus.Paid or InvoiceStatus.Void))
            throw new DomainRuleException("Only a payment for a paid or voided invoice is held for refund.");
        return Posted(Transaction(LedgerTransactionKind.PaymentToRefund, paymentId, invoice, at).Debit(Cash, amount).Credit(RefundsPayable, amount));
    }

    /// <summary>
    /// Dr receivable, Cr bad debt: the write-off made at <paramref name="writtenOffAt"/> is owed again, because the invoice
    /// was paid late (see <see cref="Payment"/>) or reopened (the amount <see cref="Invoice.Reopen"/> returned).
    /// </summary>
    public static IReadOnlyList<LedgerTransaction> WriteOffReversed(Invoice invoice, Money amount, DateTimeOffset writtenOffAt, DateTimeOffset at) =>
        Posted(Transaction(LedgerTransactionKind.WriteOffReversed, WriteOffId(invoice, writtenOffAt), invoice, at).Debit(Receivable, amount).Credit(BadDebt, amount));

    /// <summary>Dr bad debt, Cr receivable: the amount <see cref="Invoice.MarkUncollectible"/> returned.</summary>
    public static IReadOnlyList<LedgerTransaction> WriteOff(Invoice invoice, Money amount, DateTimeOffset at) =>
        Posted(Transaction(LedgerTransactionKind.WriteOff, WriteOffId(invoice, at), invoice, at).Debit(BadDebt, amount).Credit(Receivable, amount));

    /// <summary>
    /// A reopened invoice can be written off again: each write-off, and the reversal that takes it back, is named by its
    /// time, so that a second write-off is not mistaken for the first posted twice.
    /// </summary>
    private static Guid WriteOffId(Invoice invoice, DateTimeOffset writtenOffAt) =>
        DeterministicGuid.For($"{invoice.Id:N}:{writtenOffAt.ToUnixTimeMilliseconds()}");

    /// <summary>
    /// Money returned on a paid invoice, documented by its credit note: Dr refunds (contra revenue) by the note's net, Dr tax
    /// payable by the tax it gives back, Cr cash.
    /// </summary>
    public static IReadOnlyList<LedgerTransaction> Refund(Invoice invoice, Guid refundId, CreditNote note)
    {
        if (invoice.Status != InvoiceStatus.Paid) throw new DomainRuleException("Only a paid invoice can be refunded.");
        if (note.RefundId != refundId) throw new DomainRuleException("A refund is posted with its own credit note.");
        if (note.Total > invoice.AmountPaid) throw new DomainRuleException("A refund is more than zero and at most what was paid.");
        return Posted(Transaction(LedgerTransactionKind.Refund, refundId, invoice, note.IssuedAt)
            .Debit(Refunds, note.Net).Debit(TaxPayable, note.Tax).Credit(Cash, note.Total));
    }

    /// <summary>
    /// A credit note, after <see cref="Invoice.Credit"/> issued it: Dr refunds (contra revenue) by its net and Dr tax payable by
    /// its tax; Cr receivable on an open invoice, Cr customer credit to the customer's balance. A refund's credit note posts
    /// nothing here: <see cref="Refund"/> does.
    /// </summary>
    public static IReadOnlyList<LedgerTransaction> CreditNoteIssued(Invoice invoice, CreditNote note) => note.Settlement switch
    {
        CreditNoteSettlement.AmountDueReduced => Posted(Transaction(LedgerTransactionKind.CreditNote, note.Id, invoice, note.IssuedAt)
            .Debit(Refunds, note.Net).Debit(TaxPayable, note.Tax).Credit(Receivable, note.Total)),
        CreditNoteSettlement.CustomerCredited => Posted(Transaction(LedgerTransactionKind.CreditNote, note.Id, invoice, note.IssuedAt)
            .Debit(Refunds, note.Net).Debit(TaxPayable, note.Tax).Credit(CustomerCredit, note.Total)),
        _ => [],
    };

    /// <summary>
    /// What a dispute report moved (<see cref="Dispute.Report"/>): when the funds are withdrawn Dr chargebacks (the amount),
    /// Dr dispute fees (the fee), Cr cash; when it is won Dr cash, Cr chargebacks (the amount; the fee is not returned).
    /// </summary>
    public static IReadOnlyList<LedgerTransaction> DisputeMoved(Dispute dispute, DisputeMovement movement, DateTimeOffset at)
    {
        var transactions = new List<LedgerTransaction>();
        if (movement.Withdrawn)
            transactions.Add(new LedgerTransaction(LedgerTransactionKind.Chargeback, dispute.Id, dispute.CustomerId, dispute.InvoiceId, dispute.Currency, at)
                .Debit(Chargebacks, dispute.Amount).Debit(DisputeFees, dispute.Fee).Credit(Cash, dispute.Amount + dispute.Fee));
        if (movement.Reinstated)
            transactions.Add(new LedgerTransaction(LedgerTransactionKind.ChargebackReversed, dispute.Id, dispute.CustomerId, dispute.InvoiceId, dispute.Currency, at)
                .Debit(Cash, dispute.Amount).Credit(Chargebacks, dispute.Amount));
        return Posted([.. transactions]);
    }

    /// <summary>
    /// Reverses a voided invoice as if it had never been issued: Dr revenue and tax payable by what was credited to them,
    /// Cr discounts by what was debited to them,
    /// Cr receivable by the <paramref name="outstanding"/> amount <see cref="Invoice.Void"/> returned (Cr bad debt instead
    /// when it had been written off), and Cr customer credit by the credit it had used, which the customer gets back.
    /// An invoice is only voided before any payment, so outstanding + credit applied = total and the transaction balances.
    /// </summary>
    public static IReadOnlyList<LedgerTransaction> InvoiceVoided(Invoice invoice, Money outstanding, DateTimeOffset at)
    {
        if (invoice.Status != InvoiceStatus.Void) throw new DomainRuleException("Post a void after the invoice is voided.");
        if (invoice.IssuedAt is null) return [];
        var voided = Transaction(LedgerTransactionKind.InvoiceVoided, invoice.Id, invoice, at)
            .Credit(invoice.MarkedUncollectibleAt is null ? Receivable : BadDebt, outstanding)
            .Credit(CustomerCredit, invoice.CreditApplied);
        CreditSigned(voided, Revenue, -(invoice.Subtotal + invoice.Discount));
        voided.Credit(Discounts, invoice.Discount);
        CreditSigned(voided, TaxPayable, -invoice.Tax);
        return Posted(voided);
    }

    /// <summary>Goodwill credit a person grants: Dr refunds (contra revenue), Cr customer credit.</summary>
    public static IReadOnlyList<LedgerTransaction> CreditGranted(Guid customerId, Guid grantId, Money amount, DateTimeOffset at)
    {
        if (!amount.IsPositive) throw new DomainRuleException("Credit granted must be more than zero.");
        return Posted(new LedgerTransaction(LedgerTransactionKind.CreditGranted, grantId, customerId, null, amount.Currency, at)
            .Debit(Refunds, amount).Credit(CustomerCredit, amount));
    }

    /// <summary>Credit a person takes back from a customer's balance: Dr customer credit, Cr refunds (contra revenue).</summary>
    public static IReadOnlyList<LedgerTransaction> CreditDebited(Guid customerId, Guid adjustmentId, Money amount, DateTimeOffset at)
    {
        if (!amount.IsPositive) throw new DomainRuleException("Credit debited must be more than zero.");
        return Posted(new LedgerTransaction(LedgerTransactionKind.CreditDebited, adjustmentId, customerId, null, amount.Currency, at)
            .Debit(CustomerCredit, amount).Credit(Refunds, amount));
    }

    private static LedgerTransaction CreditAppliedTransaction(Invoice invoice, Guid applicationId, Money amount, DateTimeOffset at) =>
        Transaction(LedgerTransactionKind.CreditApplied, applicationId, invoice, at).Debit(CustomerCredit, amount).Credit(Receivable, amount);

    private static LedgerTransaction Transaction(LedgerTransactionKind kind, Guid sourceId, Invoice invoice, DateTimeOffset at) =>
        new(kind, sourceId, invoice.CustomerId, invoice.Id, invoice.Currency, at);

    /// <summary>Credits a positive amount, debits a negative one: the ledger only holds positive entries.</summary>
    private static void CreditSigned(LedgerTransaction transaction, LedgerAccount account, Money amount)
    {
        if (amount.IsNegative) transaction.Debit(account, -amount);
        else transaction.Credit(account, amount);
    }

    private static IReadOnlyList<LedgerTransaction> Posted(params LedgerTransaction[] transactions)
    {
        foreach (var transaction in transactions) transaction.Balanced();
        return [.. transactions.Where(t => t.Entries.Count > 0)];
    }
}
