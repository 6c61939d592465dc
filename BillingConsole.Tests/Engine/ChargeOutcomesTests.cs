using BillingConsole.Tests.Infrastructure;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using static BillingConsole.Tests.Domain.Build;

namespace BillingConsole.Tests.Engine;

/// <summary>The application of a gateway's answer, without a database: what each outcome does to attempt, invoice, subscription and ledger.</summary>
[PureTests]
public sealed class ChargeOutcomesTests
{
    private static readonly DateTimeOffset Now = T0.AddDays(1);

    private static PaymentAttempt Attempt(Invoice invoice) =>
        new(invoice.Id, invoice.CustomerId, null, 1, invoice.AmountDue, "sandbox", PaymentTrigger.Manual, T0);

    [Fact]
    public void A_success_pays_the_open_invoice_and_posts_a_balanced_cash_entry()
    {
        var invoice = OpenInvoice(100m);
        var attempt = Attempt(invoice);
        var ledger = new List<LedgerEntry>();

        var status = ChargeOutcomes.Apply(attempt, invoice, GatewayChargeResult.Succeeded("ch_1", TimeSpan.FromMilliseconds(120)), Now, ledger);

        Assert.Equal(ChargeStatus.Succeeded, status);
        Assert.Equal((PaymentAttemptStatus.Succeeded, "ch_1", (int?)120), (attempt.Status, attempt.GatewayReference, attempt.LatencyMs));
        Assert.Equal(InvoiceStatus.Paid, invoice.Status);
        Assert.Equal(100m, ledger.Where(e => e.Account == LedgerAccount.Cash).Sum(e => e.Debit));
        Assert.Equal(100m, ledger.Where(e => e.Account == LedgerAccount.Receivable).Sum(e => e.Credit));
        Assert.Equal(ledger.Sum(e => e.Debit), ledger.Sum(e => e.Credit));
    }

    [Fact]
    public void A_success_on_an_invoice_already_paid_is_owed_back_and_leaves_the_invoice_as_it_was()
    {
        var invoice = OpenInvoice(100m);
        ChargeOutcomes.Apply(Attempt(invoice), invoice, GatewayChargeResult.Succeeded("ch_1", TimeSpan.Zero), Now, []);
        var late = new PaymentAttempt(invoice.Id, invoice.CustomerId, null, 2, Usd(100m), "sandbox", PaymentTrigger.Manual, T0);
        var ledger = new List<LedgerEntry>();

        var status = ChargeOutcomes.Apply(late, invoice, GatewayChargeResult.Succeeded("ch_2", TimeSpan.Zero), Now, ledger);

        Assert.Equal(ChargeStatus.RefundDue, status);
        Assert.Equal(PaymentAttemptStatus.RefundDue, late.Status);
        Assert.Equal((InvoiceStatus.Paid, 100m), (invoice.Status, invoice.AmountPaid.Amount));
        Assert.Equal(100m, ledger.Where(e => e.Account == LedgerAccount.RefundsPayable).Sum(e => e.Credit));
    }

    [Fact]
    public void A_decline_fails_the_attempt_with_its_code_and_leaves_the_invoice_open_without_ledger_entries()
    {
        var invoice = OpenInvoice(100m);
        var attempt = Attempt(invoice);
        var ledger = new List<LedgerEntry>();

        var status = ChargeOutcomes.Apply(attempt, invoice,
            GatewayChargeResult.Declined(DeclineCodes.InsufficientFunds, "Insufficient funds.", "ch_1", TimeSpan.Zero), Now, ledger);

        Assert.Equal(ChargeStatus.Failed, status);
        Assert.Equal((PaymentAttemptStatus.Failed, DeclineCodes.InsufficientFunds), (attempt.Status, attempt.DeclineCode));
        Assert.Equal(InvoiceStatus.Open, invoice.Status);
        Assert.Empty(ledger);
    }

    [Fact]
    public void No_answer_leaves_the_attempt_unknown_and_the_invoice_open()
    {
        var invoice = OpenInvoice(100m);
        var attempt = Attempt(invoice);

        var status = ChargeOutcomes.Apply(attempt, invoice, GatewayChargeResult.Unknown(TimeSpan.FromSeconds(30)), Now, []);

        Assert.Equal(ChargeStatus.Unknown, status);
        Assert.Equal((PaymentAttemptStatus.Unknown, DeclineCodes.GatewayTimeout), (attempt.Status, attempt.DeclineCode));
        Assert.Equal(InvoiceStatus.Open, invoice.Status);
    }

    [Fact]
    public void A_failure_marks_an_active_subscription_past_due_and_a_success_recovers_it()
    {
        var subscription = new Subscription(CustomerId, PriceId, 1, T0, T0.AddMonths(1), null);

        Assert.True(ChargeOutcomes.ApplyToSubscription(subscription, ChargeStatus.Failed));
        Assert.Equal(SubscriptionStatus.PastDue, subscription.Status);
        Assert.False(ChargeOutcomes.ApplyToSubscription(subscription, ChargeStatus.Failed));
        Assert.False(ChargeOutcomes.ApplyToSubscription(subscription, ChargeStatus.Unknown));
        Assert.True(ChargeOutcomes.ApplyToSubscription(subscription, ChargeStatus.Succeeded));
        Assert.Equal(SubscriptionStatus.Active, subscription.Status);
    }
}
