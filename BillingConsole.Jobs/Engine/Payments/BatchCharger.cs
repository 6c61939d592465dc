using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Billing;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// Charges a batch of invoices never tried before in a few statements instead of several round trips per invoice: their
/// locks in one round trip, their pending attempts in one COPY, the gateway calls at once within the <see cref="ChargeThrottle"/>,
/// the outcomes applied through <see cref="ChargeOutcomes.Apply"/> and saved together, then the payment events told while
/// the locks are still held.
/// </summary>
public sealed class BatchCharger(
    BillingDbContext db,
    ChargeSender sender,
    GatewayCircuitBreaker breaker,
    InvoiceChargeLock chargeLock,
    PaymentAttemptWriter attemptWriter,
    ChargeThrottle throttle,
    PaymentEventsNotifier notifier,
    BillingRunTimings timings,
    TimeProvider clock)
{
    /// <summary>
    /// Charges the invoices of one batch never tried before; returns their results and the invoices tried before, which the
    /// caller charges one by one (the single path reconciles them first).
    /// </summary>
    public async Task<(List<ChargeResult> Results, List<Guid> TriedBefore)> ChargeAsync(IReadOnlyCollection<Guid> invoiceIds, PaymentTrigger trigger,
        CancellationToken ct)
    {
        var results = new List<ChargeResult>();
        var triedBefore = new List<Guid>();
        var recorded = new List<(PaymentAttempt Attempt, Invoice Invoice, ChargeStatus Status)>();
        var lap = timings.Start();
        await chargeLock.RunAsync(invoiceIds, async (connection, lockedIds) =>
        {
            lap.Done(BillingRunPhase.Lock);
            results.AddRange(invoiceIds.Except(lockedIds).Select(InvoiceChargeLock.Busy));
            var invoices = await db.Invoices.AsNoTracking().Where(i => lockedIds.Contains(i.Id)).ToListAsync(ct);
            var fresh = new List<Invoice>();
            foreach (var invoice in invoices)
            {
                if (invoice.Status != InvoiceStatus.Open || invoice.AmountDue.IsZero)
                    results.Add(new ChargeResult(invoice.Id, ChargeStatus.Refused, Message: "The invoice is not open or nothing is due."));
                else if (invoice.AttemptCount > 0) triedBefore.Add(invoice.Id);
                else fresh.Add(invoice);
            }
            if (fresh.Count == 0) return;

            var customerIds = fresh.Select(i => i.CustomerId).Distinct().ToArray();
            var methods = (await db.PaymentMethods.AsNoTracking()
                    .Where(p => customerIds.Contains(p.CustomerId) && p.IsDefault && p.DetachedAt == null).ToListAsync(ct))
                .DistinctBy(p => p.CustomerId).ToDictionary(p => p.CustomerId);
            var subscriptionIds = fresh.Where(i => i.SubscriptionId is not null).Select(i => i.SubscriptionId!.Value).ToArray();
            var subscriptions = await db.Subscriptions.AsNoTracking().Where(s => subscriptionIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, ct);
            lap.Done(BillingRunPhase.Load);

            var started = clock.GetUtcNow();
            var attempts = fresh.Select(invoice =>
            {
                invoice.RecordAttempt();
                return new PaymentAttempt(invoice.Id, invoice.CustomerId, methods.GetValueOrDefault(invoice.CustomerId)?.Id, invoice.AttemptCount,
                    invoice.AmountDue, sender.GatewayName, trigger, started);
            }).ToArray();
            await attemptWriter.InsertPendingAttemptsAsync(connection, attempts, ct);
            lap.Done(BillingRunPhase.WriteAttempts);

            // Null: held back by the circuit breaker, never sent.
            var outcomes = new GatewayChargeResult?[fresh.Count];
            // All at once; the throttle's slots bound how many are in flight.
            await Task.WhenAll(fresh.Select(async (invoice, k) =>
                outcomes[k] = await ChargeFreshAsync(invoice, attempts[k], methods.GetValueOrDefault(invoice.CustomerId), ct)));
            lap.Done(BillingRunPhase.Charge);

            var now = clock.GetUtcNow();
            var ledger = new List<LedgerEntry>();
            var changed = new List<(Subscription Subscription, SubscriptionStatus Before)>();
            var unsent = new List<PaymentAttempt>();
            for (var k = 0; k < fresh.Count; k++)
            {
                if (outcomes[k] is not { } outcome)
                {
                    unsent.Add(attempts[k]);
                    fresh[k].WithdrawAttempt();
                    results.Add(ChargeResult.Deferred(fresh[k].Id, await breaker.PeekAsync(ct)));
                    continue;
                }
                var status = ChargeOutcomes.Apply(attempts[k], fresh[k], outcome, now, ledger);
                recorded.Add((attempts[k], fresh[k], status));
                if (fresh[k].SubscriptionId is { } id && subscriptions.TryGetValue(id, out var subscription))
                {
                    var before = subscription.Status;
                    if (ChargeOutcomes.ApplyToSubscription(subscription, status)) changed.Add((subscription, before));
                }
            }
            // Money may have moved: the record is saved even if the caller gave up meanwhile.
            await attemptWriter.RecordChargeOutcomesAsync(connection, [.. attempts.Except(unsent)], unsent, [.. fresh.Where(i => i.Status == InvoiceStatus.Paid)],
                ledger, changed, CancellationToken.None);
            lap.Done(BillingRunPhase.RecordOutcomes);
            // Told while the locks are held, as the single path does: no other outcome of these invoices is handled meanwhile.
            await notifier.NotifyAsync(recorded, ct);
            lap.Done(BillingRunPhase.OpenDunning);
        }, ct);
        results.AddRange(recorded.Select(r => ChargeResult.Of(r.Attempt, r.Invoice, r.Status)));
        return (results, triedBefore);
    }

    /// <summary>The gateway's answer, or null when the circuit breaker held the charge back.</summary>
    private async Task<GatewayChargeResult?> ChargeFreshAsync(Invoice invoice, PaymentAttempt attempt, PaymentMethod? method, CancellationToken ct)
    {
        if (method is null) return ChargeOutcomes.NoPaymentMethod("The customer has no payment method.");
        using var slot = await throttle.EnterAsync(ct);
        // Asked only now, with a slot: the charges queued behind a fault that opened the breaker are not sent.
        var permission = await breaker.AskAsync(ct);
        return permission.Allowed ? await sender.SendAsync(invoice, attempt, method, permission, ct) : null;
    }
}
