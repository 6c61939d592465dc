using BillingConsole.Domain.Tax;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using CreditReason = BillingConsole.Domain.Payments.CreditReason;
using BillingConsole.Engine;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Domain.Ledger.LedgerAccount;
using static BillingConsole.Domain.Ledger.LedgerTransactionKind;
using static BillingConsole.Tests.Domain.Build;

namespace BillingConsole.Tests.Engine;

[PureTests]
public sealed class LedgerPostingsTests
{
    private static readonly DateTimeOffset Later = T0.AddDays(3);

    /// <summary>Each entry as its transaction's kind, account, debit and credit, in posting order.</summary>
    private static List<(LedgerTransactionKind, LedgerAccount, decimal Debit, decimal Credit)> Shape(IEnumerable<LedgerTransaction> transactions) =>
        [.. transactions.SelectMany(t => t.Entries.Select(e => (t.Kind, e.Account, e.Debit, e.Credit)))];

    /// <summary>An issued invoice of <paramref name="lines"/> with 20 % tax and the given credit applied.</summary>
    private static Invoice Issued(decimal credit, params decimal[] lines)
    {
        var drafts = lines.Select(amount => new InvoiceLineDraft(InvoiceLineKind.OneOff, "Line", 1, Usd(amount), Usd(amount), T0, T0, null)).ToList();
        var invoice = GeneratedInvoice.Create(CustomerId, null, InvoiceKind.OneOff, "USD", T0, T0, drafts, Usd(credit), InvoiceTax.Flat(0.2m)).ToInvoice(T0);
        invoice.Finalize("INV-1", T0, TimeSpan.FromDays(14));
        return invoice;
    }

    [Fact]
    public void An_issued_invoice_books_receivable_revenue_and_tax_then_the_credit_it_used()
    {
        var invoice = Issued(20m, 90m);

        Assert.Equal(
        [
            (InvoiceIssued, Receivable, 108m, 0m), (InvoiceIssued, Revenue, 0m, 90m), (InvoiceIssued, TaxPayable, 0m, 18m),
            (CreditApplied, CustomerCredit, 20m, 0m), (CreditApplied, Receivable, 0m, 20m),
        ], Shape(LedgerPostings.InvoiceIssued(invoice)));
    }

    [Fact]
    public void A_negative_invoice_takes_back_revenue_and_owes_the_customer_credit()
    {
        var invoice = Issued(0m, 30m, -139.36m);

        Assert.Equal(
            [(InvoiceIssued, CustomerCredit, 0m, 109.36m), (InvoiceIssued, Revenue, 109.36m, 0m)],
            Shape(LedgerPostings.InvoiceIssued(invoice)));
    }

    [Fact]
    public void A_zero_invoice_posts_nothing() => Assert.Empty(LedgerPostings.InvoiceIssued(Issued(0m, 0m)));

    [Fact]
    public void A_payment_moves_the_receivable_to_cash()
    {
        var invoice = OpenInvoice(100m);
        var paid = invoice.Pay(Later);

        Assert.Equal([(Payment, Cash, 100m, 0m), (Payment, Receivable, 0m, 100m)],
            Shape(LedgerPostings.Payment(invoice, Guid.NewGuid(), paid, Later)));
    }

    [Fact]
    public void A_late_payment_of_a_written_off_invoice_reverses_the_write_off_first()
    {
        var invoice = OpenInvoice(100m);
        var writeOff = LedgerPostings.WriteOff(invoice, invoice.MarkUncollectible(Later), Later);
        var payment = LedgerPostings.Payment(invoice, Guid.NewGuid(), invoice.Pay(Later.AddDays(30)), Later.AddDays(30));

        Assert.Equal([(WriteOff, BadDebt, 100m, 0m), (WriteOff, Receivable, 0m, 100m)], Shape(writeOff));
        Assert.Equal(
        [
            (WriteOffReversed, Receivable, 100m, 0m), (WriteOffReversed, BadDebt, 0m, 100m),
            (Payment, Cash, 100m, 0m), (Payment, Receivable, 0m, 100m),
        ], Shape(payment));
    }

    [Fact]
    public void Voiding_reverses_revenue_and_tax_and_gives_the_used_credit_back()
    {
        var invoice = Issued(20m, 90m);
        var outstanding = invoice.Void(Later);

        Assert.Equal(
        [
            (InvoiceVoided, Receivable, 0m, 88m), (InvoiceVoided, CustomerCredit, 0m, 20m),
            (InvoiceVoided, Revenue, 90m, 0m), (InvoiceVoided, TaxPayable, 18m, 0m),
        ], Shape(LedgerPostings.InvoiceVoided(invoice, outstanding, Later)));
    }

    [Fact]
    public void Voiding_a_written_off_invoice_reverses_the_bad_debt_instead_of_the_receivable()
    {
        var invoice = OpenInvoice(100m);
        invoice.MarkUncollectible(Later);
        var outstanding = invoice.Void(Later.AddDays(1));

        Assert.Equal([(InvoiceVoided, BadDebt, 0m, 100m), (InvoiceVoided, Revenue, 100m, 0m)],
            Shape(LedgerPostings.InvoiceVoided(invoice, outstanding, Later.AddDays(1))));
    }

    [Fact]
    public void Voiding_a_draft_posts_nothing()
    {
        var invoice = DraftInvoice();
        Assert.Empty(LedgerPostings.InvoiceVoided(invoice, invoice.Void(Later), Later));
    }

    [Fact]
    public void Refunds_and_goodwill_credit_are_contra_revenue()
    {
        var invoice = OpenInvoice(100m);
        invoice.Pay(Later);

        var refundId = Guid.NewGuid();
        var note = invoice.Credit("CN-1", [new CreditNoteLine("Refund", Usd(40))], CreditReason.Duplicate, null, refundId, Later);
        Assert.Equal([(Refund, Refunds, 40m, 0m), (Refund, Cash, 0m, 40m)], Shape(LedgerPostings.Refund(invoice, refundId, note)));
        Assert.Empty(LedgerPostings.CreditNoteIssued(invoice, note));
        Assert.Equal([(CreditGranted, Refunds, 15m, 0m), (CreditGranted, CustomerCredit, 0m, 15m)],
            Shape(LedgerPostings.CreditGranted(CustomerId, Guid.NewGuid(), Usd(15), Later)));
        Assert.Throws<DomainRuleException>(() => invoice.Credit("CN-2", [new CreditNoteLine("Refund", Usd(60.01m))], CreditReason.Duplicate, null, Guid.NewGuid(), Later));
        Assert.Throws<DomainRuleException>(() => LedgerPostings.Refund(invoice, Guid.NewGuid(), note));
        Assert.Throws<DomainRuleException>(() => OpenInvoice().Credit("CN-3", [new CreditNoteLine("Refund", Usd(1))], CreditReason.Duplicate, null, Guid.NewGuid(), Later));
    }

    [Fact]
    public void A_credit_note_or_refund_gives_back_its_share_of_tax_and_crediting_the_whole_invoice_gives_back_exactly_its_tax()
    {
        // $10.01 at 20 %: total $12.01, tax $2.00 (rounded); three credit notes of a third each.
        var open = Issued(0m, 10.01m);
        var notes = new[] { 4.00m, 4.00m, 4.01m }.Select((amount, i) =>
            open.Credit($"CN-{i}", [new CreditNoteLine("Credit", Usd(amount))], CreditReason.Goodwill, null, null, Later)).ToList();
        Assert.Equal([0.67m, 0.66m, 0.67m], notes.Select(n => n.Tax.Amount));
        Assert.Equal(open.Tax, notes.Aggregate(Usd(0), (sum, n) => sum + n.Tax));
        Assert.Equal([(LedgerTransactionKind.CreditNote, Refunds, 3.33m, 0m), (LedgerTransactionKind.CreditNote, TaxPayable, 0.67m, 0m),
                (LedgerTransactionKind.CreditNote, Receivable, 0m, 4.00m)],
            Shape(LedgerPostings.CreditNoteIssued(open, notes[0])));

        var paid = Issued(0m, 50m);
        paid.Pay(Later);
        var refundId = Guid.NewGuid();
        var refund = paid.Credit("CN-R", [new CreditNoteLine("Refund", Usd(30))], CreditReason.Duplicate, null, refundId, Later);
        Assert.Equal([(Refund, Refunds, 25m, 0m), (Refund, TaxPayable, 5m, 0m), (Refund, Cash, 0m, 30m)],
            Shape(LedgerPostings.Refund(paid, refundId, refund)));
    }

    [Fact]
    public void Money_taken_for_a_settled_invoice_is_cash_owed_back_not_a_second_payment()
    {
        var paid = OpenInvoice(100m);
        paid.Pay(Later);
        var voided = OpenInvoice(100m);
        voided.Void(Later);
        var attemptId = Guid.NewGuid();

        Assert.Equal([(PaymentToRefund, Cash, 100m, 0m), (PaymentToRefund, RefundsPayable, 0m, 100m)],
            Shape(LedgerPostings.PaymentToRefund(paid, attemptId, Usd(100), Later)));
        Assert.Equal([(PaymentToRefund, Cash, 100m, 0m), (PaymentToRefund, RefundsPayable, 0m, 100m)],
            Shape(LedgerPostings.PaymentToRefund(voided, Guid.NewGuid(), Usd(100), Later)));
        Assert.NotEqual(LedgerPostings.Payment(paid, attemptId, Usd(100), Later)[0].Id, LedgerPostings.PaymentToRefund(paid, attemptId, Usd(100), Later)[0].Id);
        Assert.Throws<DomainRuleException>(() => LedgerPostings.PaymentToRefund(OpenInvoice(100m), Guid.NewGuid(), Usd(100), Later));
    }

    [Fact]
    public void Transaction_ids_derive_from_the_cause()
    {
        var invoice = Issued(20m, 90m);
        var first = LedgerPostings.InvoiceIssued(invoice);
        var again = LedgerPostings.InvoiceIssued(invoice);
        var grantId = Guid.NewGuid();

        Assert.Equal(first.Select(t => t.Id), again.Select(t => t.Id));
        Assert.NotEqual(first[0].Id, first[1].Id);
        Assert.Equal(LedgerPostings.CreditGranted(CustomerId, grantId, Usd(5), T0)[0].Id, LedgerPostings.CreditGranted(CustomerId, grantId, Usd(5), Later)[0].Id);
        Assert.All(first.SelectMany(t => t.Entries), e => Assert.Equal((CustomerId, (Guid?)invoice.Id), (e.CustomerId, e.InvoiceId)));
    }
}
