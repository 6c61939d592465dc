using System.Diagnostics;
using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.Engine.Payments;

public enum ChargeStatus
{
    Succeeded,
    Failed,
    /// <summary>The gateway did not answer in time (ERR_GATEWAY_TIMEOUT); the attempt is reconciled before any retry.</summary>
    Unknown,
    /// <summary>Nothing to charge: the invoice is not open or nothing is due.</summary>
    Refused,
    /// <summary>Another worker or agent is charging this invoice right now.</summary>
    Busy,
    /// <summary>
    /// Not sent: the gateway's circuit breaker has paused charging. Nothing was written against the customer; the charge is
    /// to be made again after <see cref="ChargeResult.RetryAt"/>.
    /// </summary>
    Deferred,
    /// <summary>
    /// The gateway took the money for an invoice already settled (paid by another attempt, or voided): recorded as received,
    /// owed back to the customer, the invoice unchanged.
    /// </summary>
    RefundDue,
}

/// <param name="Reconciled">The outcome came from asking the gateway about an earlier attempt; no new charge was made.</param>
/// <param name="RetryAt">When deferred: the time the circuit breaker lets a trial charge through.</param>
public sealed record ChargeResult(Guid InvoiceId, ChargeStatus Status, Guid? AttemptId = null, int? AttemptNumber = null,
    string? DeclineCode = null, string? Message = null, bool Reconciled = false, DateTimeOffset? RetryAt = null)
{
    public static ChargeResult Deferred(Guid invoiceId, ChargePermission refused) =>
        new(invoiceId, ChargeStatus.Deferred, RetryAt: refused.RetryAt, Message: PausedSentence(refused.RetryAt));

    /// <summary>What a person is told when the breaker holds a charge back.</summary>
    public static string PausedSentence(DateTimeOffset? retryAt) =>
        "Charging is paused: the payment gateway is failing, so nothing was sent and nothing was recorded against the customer."
        + (retryAt is { } at ? $" The gateway is tried again at {at.UtcDateTime:HH:mm:ss} UTC." : string.Empty);
}

/// <summary>
/// Charges invoices through the gateway, each once. A per-invoice advisory lock keeps two nodes or agents from charging it at
/// the same time; an earlier attempt whose outcome is unknown is looked up with its own key before a new one is made; a new
/// attempt is saved as pending before the gateway is called, so a crash leaves evidence to reconcile. The unique index
/// ux_payment_attempts_one_success is the last line of defence.
/// <see cref="ChargeManyAsync"/> does the same for a billing run's fresh invoices with a few statements per batch instead of
/// several round trips per invoice, recording outcomes through the same <see cref="Apply"/>.
/// Every charge asks the <see cref="GatewayCircuitBreaker"/> first and reports its outcome to it; a charge it holds back is
/// <see cref="ChargeStatus.Deferred"/> and leaves no attempt behind.
/// </summary>
public sealed class PaymentProcessor(
    BillingDbContext db,
    IPaymentGateway gateway,
    GatewayCircuitBreaker breaker,
    BillingChunkWriter writer,
    ChargeThrottle throttle,
    IOptionsMonitor<BillingOptions> billing,
    IEnumerable<IPaymentEvents> events,
    AuditTrail audit,
    TimeProvider clock,
    IOptionsMonitor<GatewayOptions> options,
    ILogger<PaymentProcessor> logger)
{
    public async Task<ChargeResult> ChargeAsync(Guid invoiceId, PaymentTrigger trigger, Actor actor, CancellationToken ct)
    {
        // Paused: not even the look-ups of earlier attempts are worth sending into a failing gateway.
        if (await breaker.PeekAsync(ct) is { Allowed: false } paused) return ChargeResult.Deferred(invoiceId, paused);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            var key = AdvisoryLocks.InvoiceCharge(invoiceId);
            if (!await AdvisoryLocks.TryLockAsync(connection, key, ct))
                return new ChargeResult(invoiceId, ChargeStatus.Busy, Message: "Another charge of this invoice is in progress.");
            try
            {
                return await ChargeLockedAsync(invoiceId, trigger, actor, ct);
            }
            finally
            {
                await UnlockAsync(connection, key);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Invoices taken per batch: each holds one advisory lock per invoice, within PostgreSQL's shared lock table.</summary>
    public const int BatchSize = 250;

    /// <summary>
    /// Charges many invoices, each as <see cref="ChargeAsync"/> would: locked, attempt saved as pending before the gateway is
    /// called, outcome recorded. Invoices never tried go through in batches; one that was tried before (a pending attempt
    /// left by a crash, say) takes the single path, which reconciles it first.
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
            var (charged, triedBefore) = await ChargeBatchAsync(batch, trigger, ct);
            results.AddRange(charged);
            foreach (var invoiceId in triedBefore) results.Add(await ChargeAsync(invoiceId, trigger, actor, ct));
        }
        return results;
    }

    private async Task<(List<ChargeResult> Results, List<Guid> TriedBefore)> ChargeBatchAsync(Guid[] invoiceIds, PaymentTrigger trigger, CancellationToken ct)
    {
        var results = new List<ChargeResult>();
        var triedBefore = new List<Guid>();
        var recorded = new List<(PaymentAttempt Attempt, Invoice Invoice, ChargeStatus Status)>();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            var keys = invoiceIds.ToDictionary(AdvisoryLocks.InvoiceCharge);
            var locked = await AdvisoryLocks.TryLockManyAsync(connection, [.. keys.Keys], ct);
            try
            {
                var lockedIds = locked.Select(key => keys[key]).ToArray();
                results.AddRange(invoiceIds.Except(lockedIds).Select(id => new ChargeResult(id, ChargeStatus.Busy, Message: "Another charge of this invoice is in progress.")));
                var invoices = await db.Invoices.AsNoTracking().Where(i => lockedIds.Contains(i.Id)).ToListAsync(ct);
                var fresh = new List<Invoice>();
                foreach (var invoice in invoices)
                {
                    if (invoice.Status != InvoiceStatus.Open || invoice.AmountDue.IsZero)
                        results.Add(new ChargeResult(invoice.Id, ChargeStatus.Refused, Message: "The invoice is not open or nothing is due."));
                    else if (invoice.AttemptCount > 0) triedBefore.Add(invoice.Id);
                    else fresh.Add(invoice);
                }
                if (fresh.Count == 0) return (results, triedBefore);

                var customerIds = fresh.Select(i => i.CustomerId).Distinct().ToArray();
                var methods = (await db.PaymentMethods.AsNoTracking()
                        .Where(p => customerIds.Contains(p.CustomerId) && p.IsDefault && p.DetachedAt == null).ToListAsync(ct))
                    .DistinctBy(p => p.CustomerId).ToDictionary(p => p.CustomerId);
                var subscriptionIds = fresh.Where(i => i.SubscriptionId is not null).Select(i => i.SubscriptionId!.Value).ToArray();
                var subscriptions = await db.Subscriptions.AsNoTracking().Where(s => subscriptionIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, ct);

                var started = clock.GetUtcNow();
                var attempts = fresh.Select(invoice =>
                {
                    invoice.RecordAttempt();
                    return new PaymentAttempt(invoice.Id, invoice.CustomerId, methods.GetValueOrDefault(invoice.CustomerId)?.Id, invoice.AttemptCount,
                        invoice.AmountDue, gateway.Name, trigger, started);
                }).ToArray();
                await writer.InsertPendingAttemptsAsync(connection, attempts, ct);

                // Null: held back by the circuit breaker, never sent.
                var outcomes = new GatewayChargeResult?[fresh.Count];
                await Parallel.ForEachAsync(Enumerable.Range(0, fresh.Count),
                    new ParallelOptions { MaxDegreeOfParallelism = billing.CurrentValue.ChargeConcurrency, CancellationToken = ct },
                    async (k, token) => outcomes[k] = await ChargeFreshAsync(fresh[k], attempts[k], methods.GetValueOrDefault(fresh[k].CustomerId), token));

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
                    var status = Apply(attempts[k], fresh[k], outcome, now, ledger);
                    recorded.Add((attempts[k], fresh[k], status));
                    if (fresh[k].SubscriptionId is { } id && subscriptions.TryGetValue(id, out var subscription))
                    {
                        var before = subscription.Status;
                        if (ApplyToSubscription(subscription, status)) changed.Add((subscription, before));
                    }
                }
                // Money may have moved: the record is saved even if the caller gave up meanwhile.
                await writer.RecordChargeOutcomesAsync(connection, [.. attempts.Except(unsent)], unsent, [.. fresh.Where(i => i.Status == InvoiceStatus.Paid)],
                    ledger, changed, CancellationToken.None);
            }
            finally
            {
                await UnlockManyAsync(connection, locked);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        foreach (var (attempt, invoice, status) in recorded)
        {
            await NotifyAsync(attempt, invoice, status, ct);
            results.Add(Result(attempt, invoice, status));
        }
        return (results, triedBefore);
    }

    /// <summary>The gateway's answer, or null when the circuit breaker held the charge back.</summary>
    private async Task<GatewayChargeResult?> ChargeFreshAsync(Invoice invoice, PaymentAttempt attempt, PaymentMethod? method, CancellationToken ct)
    {
        if (method is null) return NoPaymentMethod("The customer has no payment method.");
        using var slot = await throttle.EnterAsync(ct);
        // Asked only now, with a slot: the charges queued behind a fault that opened the breaker are not sent.
        var permission = await breaker.AskAsync(ct);
        return permission.Allowed ? await SendChargeAsync(invoice, attempt, method, permission, ct) : null;
    }

    /// <summary>Sends one charge under the breaker's permission and tells the breaker how it ended.</summary>
    private async Task<GatewayChargeResult> SendChargeAsync(Invoice invoice, PaymentAttempt attempt, PaymentMethod method, ChargePermission permission,
        CancellationToken ct)
    {
        var request = new GatewayChargeRequest(attempt.IdempotencyKey, attempt.Amount, method.Token, invoice.CustomerId, invoice.Id,
            invoice.Number, $"Invoice {invoice.Number}");
        var outcome = await CallGatewayAsync(token => gateway.ChargeAsync(request, token), GatewayChargeResult.Unknown, ct);
        await breaker.RecordAsync(permission, outcome, CancellationToken.None);
        return outcome;
    }

    private static GatewayChargeResult NoPaymentMethod(string message) =>
        GatewayChargeResult.Declined(DeclineCodes.NoPaymentMethod, message, null, TimeSpan.Zero);

    private async Task<ChargeResult> ChargeLockedAsync(Guid invoiceId, PaymentTrigger trigger, Actor actor, CancellationToken ct)
    {
        var invoice = await db.Invoices.FirstOrDefaultAsync(i => i.Id == invoiceId, ct);
        if (invoice is null) return new ChargeResult(invoiceId, ChargeStatus.Refused, Message: "There is no such invoice.");
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
                return await RecordAsync(attempt, invoice, NoPaymentMethod("The customer has no payment method."), trigger, actor, reconciled: false, ct);
            }
        }
        else
        {
            method = attempt.PaymentMethodId is { } methodId ? await db.PaymentMethods.AsNoTracking().FirstOrDefaultAsync(p => p.Id == methodId, ct) : null;
            if (method is null)
            {
                return await RecordAsync(attempt, invoice, NoPaymentMethod("The attempt's payment method no longer exists."), trigger, actor,
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
        var outcome = await SendChargeAsync(invoice, attempt, method, permission, ct);
        return await RecordAsync(attempt, invoice, outcome, trigger, actor, reconciled: false, ct);
    }

    private PaymentAttempt NewAttempt(Invoice invoice, PaymentMethod? method, PaymentTrigger trigger)
    {
        var attempt = new PaymentAttempt(invoice.Id, invoice.CustomerId, method?.Id, invoice.AttemptCount + 1, invoice.AmountDue,
            gateway.Name, trigger, clock.GetUtcNow());
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
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            var key = AdvisoryLocks.InvoiceCharge(invoiceId);
            if (!await AdvisoryLocks.TryLockAsync(connection, key, ct))
                return new ChargeResult(invoiceId, ChargeStatus.Busy, Message: "Another charge of this invoice is in progress.");
            try
            {
                var invoice = await db.Invoices.FirstOrDefaultAsync(i => i.Id == invoiceId, ct);
                if (invoice is null) return new ChargeResult(invoiceId, ChargeStatus.Refused, Message: "There is no such invoice.");
                if (invoice.Status == InvoiceStatus.Paid) return new ChargeResult(invoiceId, ChargeStatus.Succeeded, Message: "The invoice is paid.");
                var (settled, unseen) = await ReconcileLockedAsync(invoice, PaymentTrigger.Manual, actor, ct);
                if (settled is not null || unseen is null || !sendUnseen || invoice.Status != InvoiceStatus.Open) return settled;
                return await SendLockedAsync(invoice, unseen, unseen.Trigger, actor, ct);
            }
            finally
            {
                await UnlockAsync(connection, key);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
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
        var found = await CallGatewayAsync<GatewayChargeResult?>(token => gateway.LookupAsync(attempt.IdempotencyKey, token),
            latency => GatewayChargeResult.Unknown(latency), ct);
        return found?.Outcome == GatewayOutcome.Unknown ? (false, null) : (true, found);
    }

    /// <summary>
    /// Calls the gateway within the charge deadline; a deadline reached or a failed call becomes <paramref name="unknown"/>.
    /// A call that failed fast (a 5xx, a reset connection) is made again, up to <see cref="GatewayOptions.RetryAttempts"/>
    /// times, while the deadline leaves time. That is safe only because every call made here is idempotent: a charge goes
    /// under its attempt's own key, which the gateway answers with the first result, and a look-up only reads.
    /// </summary>
    private async Task<T> CallGatewayAsync<T>(Func<CancellationToken, Task<T>> call, Func<TimeSpan, T> unknown, CancellationToken ct)
    {
        var settings = options.CurrentValue;
        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(settings.ChargeTimeoutMs);
        for (var retry = 0; ; retry++)
        {
            T result;
            try
            {
                result = await call(deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // The deadline is used up: no time is left to ask again.
                return unknown(Stopwatch.GetElapsedTime(started));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "The gateway call failed (try {Try} of {Tries}); its outcome is treated as unknown", retry + 1, settings.RetryAttempts + 1);
                result = unknown(Stopwatch.GetElapsedTime(started));
            }
            if (result is not GatewayChargeResult { Outcome: GatewayOutcome.Unknown } || retry == settings.RetryAttempts) return result;
            try
            {
                // Network time, like the deadline: wall-clock, not the billing clock.
                await Task.Delay(settings.RetryDelayMs << retry, deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return result;
            }
        }
    }

    private async Task<ChargeResult> RecordAsync(PaymentAttempt attempt, Invoice invoice, GatewayChargeResult outcome, PaymentTrigger trigger,
        Actor actor, bool reconciled, CancellationToken ct)
    {
        var ledger = new List<LedgerEntry>();
        var status = Apply(attempt, invoice, outcome, clock.GetUtcNow(), ledger);
        db.LedgerEntries.AddRange(ledger);
        if (actor != Actor.System)
            audit.Record(actor, "invoice.charge", "invoice", invoice.Id, $"{trigger.ToSnakeCase()} charge, attempt {attempt.AttemptNumber}: {status.ToSnakeCase()}");

        // Money may have moved: the record is saved even if the caller gave up meanwhile.
        await SaveWithSubscriptionAsync(invoice.SubscriptionId, status, CancellationToken.None);

        await NotifyAsync(attempt, invoice, status, ct);
        return Result(attempt, invoice, status, reconciled);
    }

    /// <summary>
    /// Records an outcome the gateway reported by itself (a webhook) for the attempt with this idempotency key or gateway
    /// reference, through the same <see cref="Apply"/> as a charge. The gateway's success is final: it settles an open or
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
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        if (!await AdvisoryLocks.TryLockForTransactionAsync(connection, AdvisoryLocks.InvoiceCharge(attempt.InvoiceId), ct))
            return new ChargeResult(attempt.InvoiceId, ChargeStatus.Busy, attempt.Id, attempt.AttemptNumber, Message: "A charge of this invoice is in progress.");
        // Re-read under the lock: a charge that finished just before may have settled the attempt.
        await db.Entry(attempt).ReloadAsync(ct);
        var invoice = await db.Invoices.FirstAsync(i => i.Id == attempt.InvoiceId, ct);
        var succeeded = outcome.Outcome == GatewayOutcome.Succeeded;
        var applies = succeeded
            ? attempt.Status is not (PaymentAttemptStatus.Succeeded or PaymentAttemptStatus.RefundDue)
            : attempt.Status is PaymentAttemptStatus.Pending or PaymentAttemptStatus.Unknown && invoice.Status == InvoiceStatus.Open;
        if (!applies)
            return Result(attempt, invoice, ChargeStatus.Refused) with { Message = "The attempt is already settled; the report changes nothing." };
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

    private static ChargeResult Result(PaymentAttempt attempt, Invoice invoice, ChargeStatus status, bool reconciled = false) =>
        new(invoice.Id, status, attempt.Id, attempt.AttemptNumber, attempt.DeclineCode, attempt.FailureMessage, reconciled);

    /// <summary>
    /// Records a gateway outcome on the attempt and the invoice, adding the payment's ledger entries to <paramref name="ledger"/>.
    /// The one place both the single and the batched path turn an answer into domain changes.
    /// </summary>
    private ChargeStatus Apply(PaymentAttempt attempt, Invoice invoice, GatewayChargeResult outcome, DateTimeOffset now, List<LedgerEntry> ledger)
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
                logger.LogError("{ErrorCode}: the gateway did not answer within {TimeoutMs} ms charging invoice {InvoiceNumber} ({InvoiceId}), attempt {AttemptNumber}, key {IdempotencyKey}",
                    DeclineCodes.GatewayTimeout, options.CurrentValue.ChargeTimeoutMs, invoice.Number, invoice.Id, attempt.AttemptNumber, attempt.IdempotencyKey);
                return ChargeStatus.Unknown;
        }
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
            if (subscription is not null) ApplyToSubscription(subscription, status);
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

    /// <summary>A success recovers a past-due subscription; a failure marks an active or trialing one past due. True when it changed.</summary>
    private static bool ApplyToSubscription(Subscription subscription, ChargeStatus status)
    {
        if (status == ChargeStatus.Succeeded && subscription.Status == SubscriptionStatus.PastDue)
            subscription.Recover();
        else if (status == ChargeStatus.Failed && subscription.Status is SubscriptionStatus.Active or SubscriptionStatus.Trialing)
            subscription.MarkPastDue();
        else
            return false;
        return true;
    }

    private async Task NotifyAsync(PaymentAttempt attempt, Invoice invoice, ChargeStatus status, CancellationToken ct)
    {
        if (status is not (ChargeStatus.Succeeded or ChargeStatus.Failed)) return;
        foreach (var handler in events)
        {
            try
            {
                if (status == ChargeStatus.Succeeded) await handler.OnPaymentSucceededAsync(attempt, invoice, ct);
                else await handler.OnPaymentFailedAsync(attempt, invoice, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The charge is recorded; a handler's failure must not turn it into an error for the caller.
                logger.LogError(e, "Payment event handler {Handler} failed for invoice {InvoiceId}", handler.GetType().Name, invoice.Id);
            }
        }
    }

    private Task UnlockAsync(NpgsqlConnection connection, long key) => UnlockManyAsync(connection, [key]);

    private async Task UnlockManyAsync(NpgsqlConnection connection, long[] keys)
    {
        try
        {
            await AdvisoryLocks.UnlockManyAsync(connection, keys);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // A broken connection has already released the lock on the server.
            logger.LogWarning(e, "Could not release the invoice charge lock explicitly");
        }
    }
}
