using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Notifications;
using BillingConsole.Gateways;
using BillingConsole.Engine.Telemetry;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// Charges invoices through the gateway, each once. A per-invoice charge claim (<see cref="InvoiceChargeLock"/>) keeps two nodes or
/// agents from charging it at the same time; an earlier attempt whose outcome is unknown is looked up with its own key before a new one is made; a new
/// attempt is saved as pending before the gateway is called, so a crash leaves evidence to reconcile. The unique index
/// ux_payment_attempts_one_success is the last line of defence.
/// <see cref="ChargeManyAsync"/> does the same for many fresh invoices through the <see cref="BatchCharger"/>.
/// Every charge asks the <see cref="GatewayCircuitBreaker"/> first and reports its outcome to it (<see cref="ChargeSender"/>);
/// a charge it holds back is <see cref="ChargeStatus.Deferred"/> and leaves no attempt behind. Outcomes are applied by
/// <see cref="ChargeOutcomes"/> and told to the payment event handlers by <see cref="PaymentEventsNotifier"/>; docs/payments.md
/// has the whole flow.
/// </summary>
public sealed class PaymentProcessor(
    BillingDbContext db,
    DeadlineGateway gateway,
    ChargeSender sender,
    GatewayCircuitBreaker breaker,
    InvoiceChargeLock chargeLock,
    BatchCharger batches,
    PaymentEventsNotifier notifier,
    AuditTrail audit,
    TimeProvider clock)
{
    public async Task<ChargeResult> ChargeAsync(Guid invoiceId, PaymentTrigger trigger, Actor actor, CancellationToken ct)
    {
        using var span = EngineTelemetry.Start("charge invoice");
        span.SetTag("billing.invoice_id", invoiceId).SetTag("billing.trigger", trigger.ToString());
        // Paused: not even the look-ups of earlier attempts are worth sending into a failing gateway.
        if (await breaker.PeekAsync(ct) is { Allowed: false } paused) return ChargeResult.Deferred(invoiceId, paused);
        return await chargeLock.RunAsync(invoiceId, () => ChargeLockedAsync(invoiceId, trigger, actor, ct), () => InvoiceChargeLock.Busy(invoiceId), ct);
    }

    /// <summary>
    /// Invoices charged per batch: claimed, given pending attempts, sent and recorded in one round of statements.
    /// </summary>
    public const int BatchSize = 250;

    /// <summary>
    /// Charges many invoices, each as <see cref="ChargeAsync"/> would: locked, attempt saved as pending before the gateway is
    /// called, outcome recorded. Invoices go through in batches (<see cref="BatchCharger"/>); one with an earlier attempt
    /// still pending or unknown (left by a crash or a timeout, say) takes the single path, which reconciles it first, and so
    /// does any tried before unless this is a dunning retry.
    /// </summary>
    public async Task<IReadOnlyList<ChargeResult>> ChargeManyAsync(IReadOnlyList<Guid> invoiceIds, PaymentTrigger trigger, Actor actor,
        CancellationToken ct)
    {
        var results = new List<ChargeResult>(invoiceIds.Count);
        foreach (var batch in invoiceIds.Chunk(BatchSize))
        {
            if (await breaker.PeekAsync(ct) is { Allowed: false } paused)
            {
                results.AddRange(batch.Select(id => ChargeResult.Deferred(id, paused)));
                continue;
            }
            var (charged, triedBefore) = await batches.ChargeAsync(batch, trigger, ct);
            results.AddRange(charged);
            foreach (var invoiceId in triedBefore) results.Add(await ChargeAsync(invoiceId, trigger, actor, ct));
        }
        return results;
    }

    private async Task<ChargeResult> ChargeLockedAsync(Guid invoiceId, PaymentTrigger trigger, Actor actor, CancellationToken ct)
    {
        var invoice = await db.Invoices.FirstOrDefaultAsync(i => i.Id == invoiceId, ct);
        if (invoice is null) return new ChargeResult(invoiceId, ChargeStatus.Refused, Message: "There is no such invoice.");
        EngineTelemetry.Tag(customerId: invoice.CustomerId, subscriptionId: invoice.SubscriptionId);
        if (invoice.Status != InvoiceStatus.Open)
            return new ChargeResult(invoiceId, ChargeStatus.Refused, Message: $"The invoice is {invoice.Status.ToSnakeCase()}, not open.");
        if (invoice.AmountDue.IsZero) return new ChargeResult(invoiceId, ChargeStatus.Refused, Message: "Nothing is due on the invoice.");

        var (settled, attempt) = await ReconcileLockedAsync(invoice, trigger, actor, ct);
        if (settled is not null) return settled;

        // The billing run and auto-collection make an invoice's first charge only; one tried meanwhile (by the other, or by a
        // second node) is dunning's.
        if (attempt is null && trigger is (PaymentTrigger.BillingRun or PaymentTrigger.AutoCollection) && invoice.AttemptCount > 0)
            return new ChargeResult(invoiceId, ChargeStatus.Refused, Message: "The invoice was already tried; retries belong to dunning.");
        return await SendLockedAsync(invoice, attempt, trigger, actor, ct);
    }

    /// <summary>Sends <paramref name="attempt"/> again under its own key, or a new attempt when null, and records the outcome.</summary>
    private async Task<ChargeResult> SendLockedAsync(Invoice invoice, PaymentAttempt? attempt, PaymentTrigger trigger, Actor actor, CancellationToken ct)
    {
        var invoiceId = invoice.Id;
        PaymentMethod? method;
        if (attempt is null)
        {
            method = await db.PaymentMethods.AsNoTracking()
                .FirstOrDefaultAsync(p => p.CustomerId == invoice.CustomerId && p.IsDefault && p.DetachedAt == null, ct);
            if (method is null)
            {
                attempt = NewAttempt(invoice, null, trigger);
                return await RecordAsync(attempt, invoice, ChargeOutcomes.NoPaymentMethod("The customer has no payment method."), trigger, actor, reconciled: false, ct);
            }
        }
        else
        {
            method = attempt.PaymentMethodId is { } methodId ? await db.PaymentMethods.AsNoTracking().FirstOrDefaultAsync(p => p.Id == methodId, ct) : null;
            if (method is null)
            {
                return await RecordAsync(attempt, invoice, ChargeOutcomes.NoPaymentMethod("The attempt's payment method no longer exists."), trigger, actor,
                    reconciled: false, ct);
            }
        }

        // Asked before a new attempt is written: a charge held back leaves nothing behind.
        var permission = await breaker.AskAsync(ct);
        if (!permission.Allowed) return ChargeResult.Deferred(invoiceId, permission);
        if (attempt is null)
        {
            attempt = NewAttempt(invoice, method, trigger);
            await db.SaveChangesAsync(ct);
        }
        var outcome = await sender.SendAsync(invoice, attempt, method, permission, ct);
        return await RecordAsync(attempt, invoice, outcome, trigger, actor, reconciled: false, ct);
    }

    private PaymentAttempt NewAttempt(Invoice invoice, PaymentMethod? method, PaymentTrigger trigger)
    {
        var attempt = new PaymentAttempt(invoice.Id, invoice.CustomerId, method?.Id, invoice.AttemptCount + 1, invoice.AmountDue,
            sender.GatewayName, trigger, clock.GetUtcNow());
        invoice.RecordAttempt();
        db.PaymentAttempts.Add(attempt);
        return attempt;
    }

    /// <summary>
    /// Asks the gateway about every earlier attempt of the invoice whose outcome is unknown and records the answers, without
    /// charging. Null when none of them succeeded and all were answered: nothing was charged, so a retry is safe.
    /// </summary>
    public Task<ChargeResult?> ReconcileAsync(Guid invoiceId, Actor actor, CancellationToken ct) => ReconcileAsync(invoiceId, actor, sendUnseen: false, ct);

    /// <summary>
    /// As <see cref="ReconcileAsync(Guid, Actor, CancellationToken)"/>, but an attempt the gateway never received is sent now
    /// under its own key: the charge that was meant, made once, instead of an attempt left unresolved for a retry that nothing
    /// may ever schedule (a billing-run charge lost to a 5xx, say).
    /// </summary>
    public Task<ChargeResult?> SettleUnresolvedAsync(Guid invoiceId, Actor actor, CancellationToken ct) => ReconcileAsync(invoiceId, actor, sendUnseen: true, ct);

    private async Task<ChargeResult?> ReconcileAsync(Guid invoiceId, Actor actor, bool sendUnseen, CancellationToken ct)
    {
        return await chargeLock.RunAsync<ChargeResult?>(invoiceId, async () =>
        {
            var invoice = await db.Invoices.FirstOrDefaultAsync(i => i.Id == invoiceId, ct);
            if (invoice is null) return new ChargeResult(invoiceId, ChargeStatus.Refused, Message: "There is no such invoice.");
            if (invoice.Status == InvoiceStatus.Paid) return new ChargeResult(invoiceId, ChargeStatus.Succeeded, Message: "The invoice is paid.");
            var (settled, unseen) = await ReconcileLockedAsync(invoice, PaymentTrigger.Manual, actor, ct);
            if (settled is not null || unseen is null || !sendUnseen || invoice.Status != InvoiceStatus.Open) return settled;
            return await SendLockedAsync(invoice, unseen, unseen.Trigger, actor, ct);
        }, () => InvoiceChargeLock.Busy(invoiceId), ct);
    }

    /// <summary>
    /// Resolves earlier attempts left pending or unknown. Settled is a result to return as is (a success found, or a look-up
    /// unanswered); Resend is an attempt the gateway never saw, which may be sent again under its own key.
    /// </summary>
    private async Task<(ChargeResult? Settled, PaymentAttempt? Resend)> ReconcileLockedAsync(Invoice invoice, PaymentTrigger trigger, Actor actor,
        CancellationToken ct)
    {
        PaymentAttempt? attempt = null;
        if (invoice.AttemptCount == 0) return (null, null);
        var unresolved = await db.PaymentAttempts
            .Where(a => a.InvoiceId == invoice.Id && (a.Status == PaymentAttemptStatus.Pending || a.Status == PaymentAttemptStatus.Unknown))
            .OrderBy(a => a.AttemptNumber)
            .ToListAsync(ct);
        foreach (var earlier in unresolved)
        {
            var (answered, found) = await LookupAsync(earlier, ct);
            if (!answered)
                return (new ChargeResult(invoice.Id, ChargeStatus.Unknown, earlier.Id, earlier.AttemptNumber, DeclineCodes.GatewayTimeout,
                    $"Attempt {earlier.AttemptNumber} is still unresolved: the gateway did not answer the look-up."), null);
            if (found is null)
            {
                // The gateway never saw this key, so sending it again cannot charge twice.
                attempt = earlier;
                continue;
            }
            var reconciled = await RecordAsync(earlier, invoice, found, trigger, actor, reconciled: true, ct);
            if (reconciled.Status == ChargeStatus.Succeeded) return (reconciled, null);
        }
        return (null, attempt);
    }

    private async Task<(bool Answered, GatewayChargeResult? Found)> LookupAsync(PaymentAttempt attempt, CancellationToken ct)
    {
        var found = await gateway.LookupAsync(new GatewayLookupRequest(attempt.Gateway, attempt.IdempotencyKey), ct);
        return found?.Outcome == GatewayOutcome.Unknown ? (false, null) : (true, found);
    }

    private async Task<ChargeResult> RecordAsync(PaymentAttempt attempt, Invoice invoice, GatewayChargeResult outcome, PaymentTrigger trigger,
        Actor actor, bool reconciled, CancellationToken ct)
    {
        var ledger = new List<LedgerEntry>();
        var status = ChargeOutcomes.Apply(attempt, invoice, outcome, clock.GetUtcNow(), ledger);
        db.LedgerEntries.AddRange(ledger);
        if (actor != Actor.System)
            audit.Record(actor, "invoice.charge", "invoice", invoice.Id, $"{trigger.ToSnakeCase()} charge, attempt {attempt.AttemptNumber}: {status.ToSnakeCase()}");

        // Money may have moved: the record is saved even if the caller gave up meanwhile, with the email it owes the customer.
        await using (var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(CancellationToken.None) : null)
        {
            await SaveWithSubscriptionAsync(invoice.SubscriptionId, status, CancellationToken.None);
            await NotificationOutbox.ChargeOutcomeAsync(db, attempt.Id, clock.GetUtcNow(), CancellationToken.None);
            if (transaction is not null) await transaction.CommitAsync(CancellationToken.None);
        }

        await notifier.NotifyAsync([(attempt, invoice, status)], ct);
        return ChargeResult.Of(attempt, invoice, status, reconciled);
    }

    /// <summary>
    /// Records an outcome the gateway reported by itself (a webhook) for the attempt with this idempotency key or gateway
    /// reference, through the same <see cref="ChargeOutcomes.Apply"/> as a charge. The gateway's success is final: it settles an open or
    /// written-off invoice even after a failure was reported for the same attempt (the customer completed the payment later),
    /// and on an invoice already paid by another attempt or voided it is recorded as received and held for refund
    /// (<see cref="ChargeStatus.RefundDue"/>), never dropped. A failure changes only a pending or unknown attempt of an open
    /// invoice; a repeated report, or a failure after the success, is <see cref="ChargeStatus.Refused"/> and changes nothing,
    /// so a paid invoice is never reopened. Null when no attempt matches. The rule for every ordering is in docs/gateways.md.
    /// Runs inside the caller's transaction, which holds the invoice's charge lock until it ends, so a charge cannot start
    /// from the state before this outcome is committed; <see cref="ChargeStatus.Busy"/> when a charge holds it now.
    /// </summary>
    public async Task<ChargeResult?> RecordReportedOutcomeAsync(string? idempotencyKey, string? gatewayReference, GatewayChargeResult outcome,
        CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null) throw new InvalidOperationException("A reported outcome is recorded inside the caller's transaction.");
        if (idempotencyKey is null && gatewayReference is null) return null;
        var attempt = await db.PaymentAttempts.FirstOrDefaultAsync(a =>
            (idempotencyKey != null && a.IdempotencyKey == idempotencyKey) || (gatewayReference != null && a.GatewayReference == gatewayReference), ct);
        if (attempt is null) return null;
        if (!await chargeLock.TryLockForTransactionAsync(attempt.InvoiceId, ct))
            return new ChargeResult(attempt.InvoiceId, ChargeStatus.Busy, attempt.Id, attempt.AttemptNumber, Message: "A charge of this invoice is in progress.");
        // Re-read under the lock: a charge that finished just before may have settled the attempt.
        await db.Entry(attempt).ReloadAsync(ct);
        var invoice = await db.Invoices.FirstAsync(i => i.Id == attempt.InvoiceId, ct);
        var succeeded = outcome.Outcome == GatewayOutcome.Succeeded;
        var applies = succeeded
            ? attempt.Status is not (PaymentAttemptStatus.Succeeded or PaymentAttemptStatus.RefundDue)
            : attempt.Status is PaymentAttemptStatus.Pending or PaymentAttemptStatus.Unknown && invoice.Status == InvoiceStatus.Open;
        if (!applies)
            return ChargeResult.Of(attempt, invoice, ChargeStatus.Refused) with { Message = "The attempt is already settled; the report changes nothing." };
        if (succeeded) AuditReportedSuccess(attempt, invoice, outcome.GatewayReference);
        return await RecordAsync(attempt, invoice, outcome, attempt.Trigger, Actor.System, reconciled: true, ct);
    }

    /// <summary>Puts on record the reported successes support must be able to find: one after a failure, one to refund.</summary>
    private void AuditReportedSuccess(PaymentAttempt attempt, Invoice invoice, string? gatewayReference)
    {
        var payment = $"Attempt {attempt.AttemptNumber} ({Currencies.Format(attempt.Amount)}, {gatewayReference ?? attempt.IdempotencyKey})";
        if (invoice.Status is InvoiceStatus.Paid or InvoiceStatus.Void)
            audit.Record(Actor.System, "payment.refund_due", "invoice", invoice.Id,
                $"{payment} was reported succeeded by the gateway after the invoice was {invoice.Status.ToSnakeCase()}: the money is to be refunded.");
        else if (attempt.Status == PaymentAttemptStatus.Failed)
            audit.Record(Actor.System, "payment.succeeded_after_failure", "invoice", invoice.Id,
                $"{payment} was reported succeeded by the gateway after it had been reported failed ({attempt.DeclineCode}).");
    }

        /// <summary>
    /// Saves the outcome together with its effect on the subscription: a success recovers a past-due one, a failure marks an
    /// active or trialing one past due. A concurrent change of the subscription is re-read and the effect applied again.
    /// </summary>
    private async Task SaveWithSubscriptionAsync(Guid? subscriptionId, ChargeStatus status, CancellationToken ct)
    {
        var subscription = subscriptionId is { } id && status is ChargeStatus.Succeeded or ChargeStatus.Failed
            ? await db.Subscriptions.FirstOrDefaultAsync(s => s.Id == id, ct)
            : null;
        for (var tries = 1; ; tries++)
        {
            if (subscription is not null) ChargeOutcomes.ApplyToSubscription(subscription, status);
            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateConcurrencyException e) when (tries < 3 && subscription is not null && e.Entries.All(entry => entry.Entity is Subscription))
            {
                await db.Entry(subscription).ReloadAsync(ct);
            }
        }
    }
}
