using BillingConsole.Domain.Tax;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine;
using BillingConsole.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static BillingConsole.Tests.Domain.Build;

namespace BillingConsole.Tests.Engine;

/// <summary>
/// Random sequences of money movements applied to domain invoices and customers, each posted to an in-memory ledger.
/// Whatever the sequence, the ledger must balance and agree with the balances the domain reports.
/// </summary>
[PureTests]
public sealed class LedgerPropertyTests
{
    /// <summary>One step of a scenario. Picks are reduced modulo whatever is eligible when the step runs.</summary>
    public abstract record Step;

    public sealed record Issue(int Customer, int[] LineCents, int TaxRate) : Step
    {
        public override string ToString() => $"Issue(customer {Customer}, lines [{string.Join(", ", LineCents)}], tax #{TaxRate})";
    }

    public sealed record Pay(int Pick) : Step;
    public sealed record ApplyCredit(int Pick, int Percent) : Step;
    public sealed record MarkVoid(int Pick) : Step;
    public sealed record WriteOff(int Pick) : Step;
    public sealed record PayWrittenOff(int Pick) : Step;
    public sealed record GrantCredit(int Customer, int Cents) : Step;
    public sealed record Refund(int Pick, int Percent) : Step;
    public sealed record CreditOpen(int Pick, int Percent) : Step;
    public sealed record CreditPaid(int Pick, int Percent) : Step;
    public sealed record Disputed(int Pick, int FeeCents, bool Won) : Step;

    public static class Steps
    {
        private static readonly Gen<int> Pick = Gen.Choose(0, 1_000);
        private static readonly Gen<int> Percent = Gen.Choose(1, 100);
        private static readonly Gen<int> Customer = Gen.Choose(0, 1);

        public static Arbitrary<Step> Any() => Gen.Frequency(
            (4, from customer in Customer
                from count in Gen.Choose(1, 4)
                // Mostly charges, some credits (proration-like), now and then a line of zero.
                from cents in Gen.ArrayOf(Gen.Frequency((5, Gen.Choose(1, 50_000)), (2, Gen.Choose(-30_000, -1)), (1, Gen.Constant(0))), count)
                from taxRate in Gen.Choose(0, TaxRates.Length - 1)
                select (Step)new Issue(customer, cents, taxRate)),
            (3, Pick.Select(pick => (Step)new Pay(pick))),
            (2, Pick.Zip(Percent, (pick, percent) => (Step)new ApplyCredit(pick, percent))),
            (1, Pick.Select(pick => (Step)new MarkVoid(pick))),
            (1, Pick.Select(pick => (Step)new WriteOff(pick))),
            (1, Pick.Select(pick => (Step)new PayWrittenOff(pick))),
            (2, Customer.Zip(Gen.Choose(1, 30_000), (customer, cents) => (Step)new GrantCredit(customer, cents))),
            (1, Pick.Zip(Percent, (pick, percent) => (Step)new Refund(pick, percent))),
            (1, Pick.Zip(Percent, (pick, percent) => (Step)new CreditOpen(pick, percent))),
            (1, Pick.Zip(Percent, (pick, percent) => (Step)new CreditPaid(pick, percent))),
            (1, from pick in Pick from fee in Gen.Choose(0, 2_500) from won in Gen.Elements(true, false) select (Step)new Disputed(pick, fee, won))).ToArbitrary();
    }

    private static readonly decimal[] TaxRates = [0m, 0.05m, 0.0825m, 0.2m];

    [Property(MaxTest = 300, Arbitrary = [typeof(Steps)])]
    public void The_ledger_balances_and_agrees_with_invoices_and_credit_balances(Step[] steps)
    {
        var books = new Books();
        foreach (var step in steps) books.Apply(step);

        var entries = books.Ledger.SelectMany(t => t.Entries).ToList();
        Assert.All(entries.GroupBy(e => e.TransactionId), t => Assert.Equal(t.Sum(e => e.Debit), t.Sum(e => e.Credit)));
        Assert.Equal(books.Ledger.Count, books.Ledger.Select(t => t.Id).Distinct().Count());
        foreach (var customer in books.Customers)
        {
            var invoices = books.Invoices.Where(i => i.CustomerId == customer.Id).ToList();
            var standing = invoices.Where(i => i.Status != InvoiceStatus.Void).ToList();
            decimal DebitBalance(LedgerAccount account) =>
                entries.Where(e => e.CustomerId == customer.Id && e.Account == account).Sum(e => e.Debit - e.Credit);

            Assert.Equal(invoices.Sum(i => i.AmountDue.Amount), DebitBalance(LedgerAccount.Receivable));
            Assert.Equal(customer.CreditBalance.Amount, -DebitBalance(LedgerAccount.CustomerCredit));
            Assert.Equal(standing.Sum(i => i.Subtotal.Amount), -DebitBalance(LedgerAccount.Revenue));
            Assert.Equal(standing.Sum(i => i.Tax.Amount - i.TaxCredited.Amount), -DebitBalance(LedgerAccount.TaxPayable));
            Assert.Equal(invoices.Sum(i => i.AmountPaid.Amount) - invoices.Sum(books.RefundedOn) - invoices.Sum(books.DisputedCashOn),
                DebitBalance(LedgerAccount.Cash));
            Assert.Equal(books.Disputes.Where(d => d.CustomerId == customer.Id && d.FundsReinstatedAt is null).Sum(d => d.Amount.Amount),
                DebitBalance(LedgerAccount.Chargebacks));
            Assert.Equal(books.Disputes.Where(d => d.CustomerId == customer.Id).Sum(d => d.Fee.Amount), DebitBalance(LedgerAccount.DisputeFees));
            Assert.Equal(invoices.Where(i => i.Status == InvoiceStatus.Uncollectible).Sum(i => i.AmountWrittenOff.Amount),
                DebitBalance(LedgerAccount.BadDebt));
            // Refunds, credit notes and goodwill are contra revenue; a refund's credit note is not counted twice.
            Assert.Equal(invoices.Sum(i => i.AmountCredited.Amount - i.TaxCredited.Amount) + books.GrantedTo(customer), DebitBalance(LedgerAccount.Refunds));
            Assert.All(invoices, i => Assert.True(i.AmountCredited <= Money.Max(i.Total, Usd(0m))));
        }
    }

    /// <summary>Two customers, their invoices and the ledger, changed only through domain methods and LedgerPostings.</summary>
    private sealed class Books
    {
        private readonly Dictionary<Guid, decimal> _refunded = [];
        private readonly Dictionary<Guid, decimal> _granted = [];
        private int _step;

        public List<Customer> Customers { get; } =
        [
            new("Ada", "ada@example.com", "USD", CustomerAddress.Empty, T0),
            new("Grace", "grace@example.com", "USD", CustomerAddress.Empty, T0),
        ];

        public List<Invoice> Invoices { get; } = [];
        public List<LedgerTransaction> Ledger { get; } = [];

        private DateTimeOffset Now => T0.AddHours(_step);

        public decimal RefundedOn(Invoice invoice) => _refunded.GetValueOrDefault(invoice.Id);

        public decimal GrantedTo(Customer customer) => _granted.GetValueOrDefault(customer.Id);

        public List<Dispute> Disputes { get; } = [];

        /// <summary>What disputes took out of cash for this invoice: chargebacks not won back, and every fee.</summary>
        public decimal DisputedCashOn(Invoice invoice) => Disputes.Where(d => d.InvoiceId == invoice.Id)
            .Sum(d => (d.FundsReinstatedAt is null ? d.Amount.Amount : 0m) + d.Fee.Amount);

        public void Apply(Step step)
        {
            _step++;
            switch (step)
            {
                case Issue issue: IssueInvoice(Customers[issue.Customer], issue.LineCents, TaxRates[issue.TaxRate]); break;
                case Pay pay: WithInvoice(pay.Pick, InvoiceStatus.Open, invoice => LedgerPostings.Payment(invoice, SourceId(), invoice.Pay(Now), Now)); break;
                case ApplyCredit apply: WithInvoice(apply.Pick, InvoiceStatus.Open, invoice => ApplyCreditTo(invoice, apply.Percent)); break;
                case MarkVoid markVoid: WithInvoice(markVoid.Pick, InvoiceStatus.Open, VoidInvoice, alsoWhen: InvoiceStatus.Uncollectible); break;
                case WriteOff writeOff: WithInvoice(writeOff.Pick, InvoiceStatus.Open, invoice => LedgerPostings.WriteOff(invoice, invoice.MarkUncollectible(Now), Now)); break;
                case PayWrittenOff late: WithInvoice(late.Pick, InvoiceStatus.Uncollectible, invoice => LedgerPostings.Payment(invoice, SourceId(), invoice.Pay(Now), Now)); break;
                case GrantCredit grant: Grant(Customers[grant.Customer], Usd(grant.Cents / 100m)); break;
                case Refund refund: WithInvoice(refund.Pick, InvoiceStatus.Paid, invoice => RefundPart(invoice, refund.Percent)); break;
                case CreditOpen credit: WithInvoice(credit.Pick, InvoiceStatus.Open, invoice => CreditPart(invoice, invoice.AmountDue, credit.Percent)); break;
                case CreditPaid credit: WithInvoice(credit.Pick, InvoiceStatus.Paid, invoice => CreditPart(invoice, invoice.Creditable, credit.Percent)); break;
                case Disputed disputed: WithInvoice(disputed.Pick, InvoiceStatus.Paid, invoice => OpenDispute(invoice, disputed)); break;
                default: throw new ArgumentOutOfRangeException(nameof(step), step, null);
            }
        }

        private void IssueInvoice(Customer customer, int[] lineCents, decimal taxRate)
        {
            var lines = lineCents.Select(cents => Usd(cents / 100m)).Select(amount => new InvoiceLineDraft(
                amount.IsNegative ? InvoiceLineKind.ProrationCredit : InvoiceLineKind.OneOff, "Line", 1, amount, amount, Now, Now, null)).ToList();
            var generated = GeneratedInvoice.Create(customer.Id, null, InvoiceKind.OneOff, "USD", Now, Now, lines, customer.CreditBalance, InvoiceTax.Flat(taxRate));
            var invoice = generated.ToInvoice(Now);
            invoice.Finalize($"INV-{_step}", Now, TimeSpan.FromDays(14));
            customer.UseCredit(generated.CreditApplied);
            customer.AddCredit(generated.CreditGranted);
            Assert.Equal(generated.CreditRemaining, customer.CreditBalance);
            Invoices.Add(invoice);
            Ledger.AddRange(LedgerPostings.InvoiceIssued(invoice));
        }

        private IReadOnlyList<LedgerTransaction> ApplyCreditTo(Invoice invoice, int percent)
        {
            var customer = CustomerOf(invoice);
            var amount = Money.Min(customer.CreditBalance, (invoice.AmountDue * (percent / 100m)).Rounded());
            if (!amount.IsPositive) return [];
            invoice.ApplyCredit(amount, Now);
            customer.UseCredit(amount);
            return LedgerPostings.CreditApplied(invoice, SourceId(), amount, Now);
        }

        private IReadOnlyList<LedgerTransaction> VoidInvoice(Invoice invoice)
        {
            if (invoice.AmountCredited.IsPositive) return [];
            var outstanding = invoice.Void(Now);
            CustomerOf(invoice).AddCredit(invoice.CreditApplied);
            return LedgerPostings.InvoiceVoided(invoice, outstanding, Now);
        }

        private IReadOnlyList<LedgerTransaction> RefundPart(Invoice invoice, int percent)
        {
            var amount = Money.Min((invoice.AmountPaid - Usd(RefundedOn(invoice))) * (percent / 100m), invoice.Creditable).Rounded();
            if (!amount.IsPositive) return [];
            _refunded[invoice.Id] = RefundedOn(invoice) + amount.Amount;
            // As the engine does once the gateway confirms: the refund's credit note, then the refund's posting.
            var refundId = SourceId();
            var note = invoice.Credit($"CN-{_step}", [new CreditNoteLine("Refund", amount)], CreditReason.Duplicate, null, refundId, Now);
            return [.. LedgerPostings.CreditNoteIssued(invoice, note), .. LedgerPostings.Refund(invoice, refundId, note)];
        }

        /// <summary>A credit note for a share of <paramref name="limit"/>: off the amount due, or to the customer's balance.</summary>
        private IReadOnlyList<LedgerTransaction> CreditPart(Invoice invoice, Money limit, int percent)
        {
            var amount = (limit * (percent / 100m)).Rounded();
            if (!amount.IsPositive) return [];
            var note = invoice.Credit($"CN-{_step}", [new CreditNoteLine("Credit", amount)], CreditReason.Goodwill, null, null, Now);
            if (note.Settlement == CreditNoteSettlement.CustomerCredited) CustomerOf(invoice).AddCredit(amount);
            return LedgerPostings.CreditNoteIssued(invoice, note);
        }

        /// <summary>The bank disputes what is left of the payment: the chargeback and fee leave cash, and come back (the amount) when won.</summary>
        private IReadOnlyList<LedgerTransaction> OpenDispute(Invoice invoice, Disputed step)
        {
            var amount = invoice.AmountPaid - Usd(RefundedOn(invoice));
            if (!amount.IsPositive || Disputes.Any(d => d.InvoiceId == invoice.Id)) return [];
            var payment = new PaymentAttempt(invoice.Id, invoice.CustomerId, null, 1, amount, "sandbox", PaymentTrigger.Manual, Now);
            payment.Succeed("ch_1", Now, 1);
            var dispute = new Dispute($"du_{_step}", payment, Now);
            Disputes.Add(dispute);
            var opened = LedgerPostings.DisputeMoved(dispute, dispute.Report(DisputeStatus.NeedsResponse, amount, Usd(step.FeeCents / 100m), "fraudulent", null, Now), Now);
            var closed = LedgerPostings.DisputeMoved(dispute,
                dispute.Report(step.Won ? DisputeStatus.Won : DisputeStatus.Lost, amount, Usd(step.FeeCents / 100m), "fraudulent", null, Now), Now);
            return [.. opened, .. closed];
        }

        private void Grant(Customer customer, Money amount)
        {
            customer.AddCredit(amount);
            _granted[customer.Id] = GrantedTo(customer) + amount.Amount;
            Ledger.AddRange(LedgerPostings.CreditGranted(customer.Id, SourceId(), amount, Now));
        }

        /// <summary>Runs <paramref name="act"/> on the eligible invoice the pick lands on, if there is one, and posts what it returns.</summary>
        private void WithInvoice(int pick, InvoiceStatus status, Func<Invoice, IReadOnlyList<LedgerTransaction>> act, InvoiceStatus? alsoWhen = null)
        {
            var eligible = Invoices.Where(i => i.Status == status || i.Status == alsoWhen).ToList();
            if (eligible.Count > 0) Ledger.AddRange(act(eligible[pick % eligible.Count]));
        }

        private Customer CustomerOf(Invoice invoice) => Customers.Single(c => c.Id == invoice.CustomerId);

        /// <summary>The id of the payment, refund, grant or credit application this step stands for.</summary>
        private Guid SourceId() => DeterministicGuid.For($"step:{_step}");
    }
}
