using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Domain.Invoicing.InvoiceStatus;
using static BillingConsole.Tests.Domain.Build;

namespace BillingConsole.Tests.Domain;

[PureTests]
public sealed class InvoiceTests : TransitionTableTests<Invoice, InvoiceStatus, InvoiceEvent>
{
    private static readonly InvoiceStatus? __ = null;

    protected override StateMachine<InvoiceStatus, InvoiceEvent> Machine => Invoice.Lifecycle;

    protected override IReadOnlyDictionary<(InvoiceStatus From, InvoiceEvent On), InvoiceStatus> Expected { get; } = Matrix(
        //              Finalized Paid  Voided              MarkedUncollectible Reopened
        (Draft,         [Open,    __,   InvoiceStatus.Void, __,                 __]),
        (Open,          [__,      Paid, InvoiceStatus.Void, Uncollectible,      __]),
        (Paid,          [__,      __,   __,                 __,                 __]),
        (InvoiceStatus.Void, [__, __,   __,                 __,                 __]),
        (Uncollectible, [__,      Paid, InvoiceStatus.Void, __,                 Open]));

    protected override Invoice InState(InvoiceStatus state)
    {
        if (state == Draft) return DraftInvoice();
        var invoice = OpenInvoice();
        switch (state)
        {
            case Paid: invoice.Pay(T0); break;
            case InvoiceStatus.Void: invoice.Void(T0); break;
            case Uncollectible: invoice.MarkUncollectible(T0); break;
        }
        return invoice;
    }

    protected override void Fire(Invoice invoice, InvoiceEvent on)
    {
        switch (on)
        {
            case InvoiceEvent.Finalized: invoice.Finalize("INV-2", T0, TimeSpan.FromDays(7)); break;
            case InvoiceEvent.Paid: invoice.Pay(T0); break;
            case InvoiceEvent.Voided: invoice.Void(T0); break;
            case InvoiceEvent.MarkedUncollectible: invoice.MarkUncollectible(T0); break;
            case InvoiceEvent.Reopened: invoice.Reopen(); break;
            default: throw new ArgumentOutOfRangeException(nameof(on), on, null);
        }
    }

    protected override InvoiceStatus StateOf(Invoice invoice) => invoice.Status;

    [Fact]
    public void Totals_add_up_the_lines_and_tax()
    {
        var invoice = new Invoice(CustomerId, null, InvoiceKind.OneOff, "USD", T0, T0.AddMonths(1),
            [Line(Usd(100)), Line(Usd(-30), InvoiceLineKind.ProrationCredit)], Usd(14), Usd(20), T0);

        Assert.Equal((Usd(70), Usd(84), Usd(64)), (invoice.Subtotal, invoice.Total, invoice.AmountPayable));
        Assert.Equal(Usd(0), invoice.AmountDue); // still a draft
    }

    [Fact]
    public void An_invoice_covered_by_credit_is_settled_when_issued()
    {
        var invoice = new Invoice(CustomerId, null, InvoiceKind.OneOff, "USD", T0, T0, [Line(Usd(40))], Usd(0), Usd(40), T0);
        invoice.Finalize("INV-3", T0.AddHours(1), TimeSpan.FromDays(7));
        Assert.Equal((Paid, T0.AddHours(1)), (invoice.Status, invoice.PaidAt));
    }

    [Fact]
    public void Credit_applied_beyond_the_total_is_refused() =>
        Assert.Throws<DomainRuleException>(() =>
            new Invoice(CustomerId, null, InvoiceKind.OneOff, "USD", T0, T0, [Line(Usd(40))], Usd(0), Usd(40.01m), T0));

    [Fact]
    public void Credit_applied_later_lowers_what_is_due_and_settles_the_rest()
    {
        var invoice = OpenInvoice(100m);

        invoice.ApplyCredit(Usd(30), T0.AddDays(1));
        Assert.Equal((Open, Usd(70)), (invoice.Status, invoice.AmountDue));

        Assert.Throws<DomainRuleException>(() => invoice.ApplyCredit(Usd(70.01m), T0.AddDays(2)));
        invoice.ApplyCredit(Usd(70), T0.AddDays(2));
        Assert.Equal((Paid, Usd(0), Usd(100)), (invoice.Status, invoice.AmountDue, invoice.CreditApplied));
    }

    [Fact]
    public void Paying_a_written_off_invoice_collects_what_was_written_off()
    {
        var invoice = OpenInvoice(80m);
        Assert.Equal(Usd(80), invoice.MarkUncollectible(T0.AddDays(30)));
        Assert.Equal(Usd(0), invoice.AmountDue);

        Assert.Equal(Usd(80), invoice.Pay(T0.AddDays(40)));
        Assert.Equal((Usd(80), Usd(0)), (invoice.AmountPaid, invoice.AmountWrittenOff));
    }

    [Fact]
    public void A_reopened_invoice_owes_again_what_was_written_off_and_forgets_the_write_off()
    {
        var invoice = OpenInvoice(80m);
        invoice.MarkUncollectible(T0.AddDays(30));

        Assert.Equal(Usd(80), invoice.Reopen());

        Assert.Equal((InvoiceStatus.Open, Usd(80), Usd(0)), (invoice.Status, invoice.AmountDue, invoice.AmountWrittenOff));
        Assert.Null(invoice.MarkedUncollectibleAt);
    }
}
