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
/// Charges a batch of invoices (never tried before, or a dunning retry's whose earlier attempts are all resolved) in a few
/// statements instead of several round trips per invoice: their locks in one round trip, their pending attempts in one COPY,
/// the gateway calls at once within the <see cref="ChargeThrottle"/>, the outcomes applied through
/// <see cref="ChargeOutcomes.Apply"/> and saved together, then the payment events told while the locks are still held.
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
    /// Charges the invoices of one batch; returns their results and the invoices the caller charges one by one through the
    /// single path: those with an earlier attempt still pending or unknown (the single path reconciles them first), and any
    /// tried before unless the trigger is <see cref="PaymentTrigger.DunningRetry"/> (the billing run and auto-collection make
    /// first charges only, and a person's charge is audited invoice by invoice).
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
            var unresolved = await UnresolvedAsync(invoices, trigger, ct);
            var toCharge = new List<Invoice>();
            foreach (var invoice in invoices)
            {
                if (invoice.Status != InvoiceStatus.Open || invoice.AmountDue.IsZero)
                    results.Add(new ChargeResult(invoice.Id, ChargeStatus.Refused, Message: "The invoice is not open or nothing is due."));
                else if (invoice.AttemptCount > 0 && (trigger != PaymentTrigger.DunningRetry || unresolved.Contains(invoice.Id))) triedBefore.Add(invoice.Id);
                else toCharge.Add(invoice);
            }
            if (toCharge.Count == 0) return;

            var customerIds = toCharge.Select(i => i.CustomerId).Distinct().ToArray();
            var methods = (await db.PaymentMethods.AsNoTracking()
                    .Where(p => customerIds.Contains(p.CustomerId) && p.IsDefault && p.DetachedAt == null).ToListAsync(ct))
                .DistinctBy(p => p.CustomerId).ToDictionary(p => p.CustomerId);
            var subscriptionIds = toCharge.Where(i => i.SubscriptionId is not null).Select(i => i.SubscriptionId!.Value).ToArray();
            var subscriptions = await db.Subscriptions.AsNoTracking().Where(s => subscriptionIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, ct);
            lap.Done(BillingRunPhase.Load);

            var started = clock.GetUtcNow();
            var attempts = toCharge.Select(invoice =>
            {
                invoice.RecordAttempt();
                return new PaymentAttempt(invoice.Id, invoice.CustomerId, methods.GetValueOrDefault(invoice.CustomerId)?.Id, invoice.AttemptCount,
                    invoice.AmountDue, sender.GatewayName, trigger, started);
            }).ToArray();
            await attemptWriter.InsertPendingAttemptsAsync(connection, attempts, ct);
            lap.Done(BillingRunPhase.WriteAttempts);

            // Null: held back by the circuit breaker, never sent.
            var outcomes = new GatewayChargeResult?[toCharge.Count];
            // All at once; the throttle's slots bound how many are in flight.
            await Task.WhenAll(toCharge.Select(async (invoice, k) =>
                outcomes[k] = await SendAsync(invoice, attempts[k], methods.GetValueOrDefault(invoice.CustomerId), ct)));
            lap.Done(BillingRunPhase.Charge);

            var now = clock.GetUtcNow();
            var ledger = new List<LedgerEntry>();
            var changed = new List<(Subscription Subscription, SubscriptionStatus Before)>();
            var unsent = new List<PaymentAttempt>();
            for (var k = 0; k < toCharge.Count; k++)
            {
                if (outcomes[k] is not { } outcome)
                {
                    unsent.Add(attempts[k]);
                    toCharge[k].WithdrawAttempt();
                    results.Add(ChargeResult.Deferred(toCharge[k].Id, await breaker.PeekAsync(ct)));
                    continue;
                }
                var status = ChargeOutcomes.Apply(attempts[k], toCharge[k], outcome, now, ledger);
                recorded.Add((attempts[k], toCharge[k], status));
                if (toCharge[k].SubscriptionId is { } id && subscriptions.TryGetValue(id, out var subscription))
                {
                    var before = subscription.Status;
                    if (ChargeOutcomes.ApplyToSubscription(subscription, status)) changed.Add((subscription, before));
                }
            }
            // Money may have moved: the record is saved even if the caller gave up meanwhile.
            await attemptWriter.RecordChargeOutcomesAsync(connection, [.. attempts.Except(unsent)], unsent, [.. toCharge.Where(i => i.Status == InvoiceStatus.Paid)],
                ledger, changed, CancellationToken.None);
            lap.Done(BillingRunPhase.RecordOutcomes);
            // Told while the locks are held, as the single path does: no other outcome of these invoices is handled meanwhile.
            await notifier.NotifyAsync(recorded, ct);
            lap.Done(BillingRunPhase.OpenDunning);
        }, ct);
        results.AddRange(recorded.Select(r => ChargeResult.Of(r.Attempt, r.Invoice, r.Status)));
        return (results, triedBefore);
    }

    /// <summary>
    /// The invoices among <paramref name="invoices"/> tried before with an attempt still pending or unknown, found with one
    /// statement; only a dunning retry asks, since other triggers leave every invoice tried before to the single path.
    /// </summary>
    private async Task<HashSet<Guid>> UnresolvedAsync(List<Invoice> invoices, PaymentTrigger trigger, CancellationToken ct)
    {
        var triedIds = invoices.Where(i => i.AttemptCount > 0).Select(i => i.Id).ToArray();
        if (trigger != PaymentTrigger.DunningRetry || triedIds.Length == 0) return [];
        return [.. await db.PaymentAttempts.AsNoTracking()
            .Where(a => triedIds.Contains(a.InvoiceId) && (a.Status == PaymentAttemptStatus.Pending || a.Status == PaymentAttemptStatus.Unknown))
            .Select(a => a.InvoiceId).Distinct().ToListAsync(ct)];
    }

    /// <summary>The gateway's answer, or null when the circuit breaker held the charge back.</summary>
    private async Task<GatewayChargeResult?> SendAsync(Invoice invoice, PaymentAttempt attempt, PaymentMethod? method, CancellationToken ct)
    {
        if (method is null) return ChargeOutcomes.NoPaymentMethod("The customer has no payment method.");
        using var slot = await throttle.EnterAsync(ct);
        // Asked only now, with a slot: the charges queued behind a fault that opened the breaker are not sent.
        var permission = await breaker.AskAsync(ct);
        return permission.Allowed ? await sender.SendAsync(invoice, attempt, method, permission, ct) : null;
    }
}
