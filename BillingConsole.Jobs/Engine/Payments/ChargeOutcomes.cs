using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Gateways;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// What a gateway's answer does to the attempt, the invoice, the subscription and the ledger. Pure: the one place every
/// charge path (single, batched, reconciled, reported by a webhook) turns an answer into domain changes, and the caller saves them.
/// </summary>
public static class ChargeOutcomes
{
    /// <summary>Records <paramref name="outcome"/> on the attempt and the invoice, adding the payment's ledger entries to <paramref name="ledger"/>.</summary>
    public static ChargeStatus Apply(PaymentAttempt attempt, Invoice invoice, GatewayChargeResult outcome, DateTimeOffset now, List<LedgerEntry> ledger)
    {
        var latencyMs = (int)Math.Min(int.MaxValue, outcome.Latency.TotalMilliseconds);
        switch (outcome.Outcome)
        {
            case GatewayOutcome.Succeeded when invoice.Status is InvoiceStatus.Paid or InvoiceStatus.Void:
                // Never a second success on the invoice (ux_payment_attempts_one_success): the money is kept apart, owed back.
                attempt.SucceedOnSettledInvoice(outcome.GatewayReference ?? string.Empty, now, latencyMs);
                ledger.AddRange(LedgerPostings.PaymentToRefund(invoice, attempt.Id, attempt.Amount, now).SelectMany(transaction => transaction.Balanced()));
                return ChargeStatus.RefundDue;
            case GatewayOutcome.Succeeded:
                attempt.Succeed(outcome.GatewayReference ?? string.Empty, now, latencyMs);
                var paid = invoice.Pay(now);
                ledger.AddRange(LedgerPostings.Payment(invoice, attempt.Id, paid, now).SelectMany(transaction => transaction.Balanced()));
                return ChargeStatus.Succeeded;
            case GatewayOutcome.Declined:
                attempt.Fail(outcome.DeclineCode ?? DeclineCodes.GenericDecline, outcome.Message ?? "Declined.", outcome.GatewayReference, now, latencyMs);
                return ChargeStatus.Failed;
            default:
                if (attempt.Status == PaymentAttemptStatus.Pending) attempt.TimeOut(now, latencyMs);
                return ChargeStatus.Unknown;
        }
    }

    /// <summary>The answer recorded when there is no card to charge: a decline, without a call to the gateway.</summary>
    public static GatewayChargeResult NoPaymentMethod(string message) =>
        GatewayChargeResult.Declined(DeclineCodes.NoPaymentMethod, message, null, TimeSpan.Zero);

    /// <summary>A success recovers a past-due subscription; a failure marks an active or trialing one past due. True when it changed.</summary>
    public static bool ApplyToSubscription(Subscription subscription, ChargeStatus status)
    {
        if (status == ChargeStatus.Succeeded && subscription.Status == SubscriptionStatus.PastDue)
            subscription.Recover();
        else if (status == ChargeStatus.Failed && subscription.Status is SubscriptionStatus.Active or SubscriptionStatus.Trialing)
            subscription.MarkPastDue();
        else
            return false;
        return true;
    }
}
