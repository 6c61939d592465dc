using BillingConsole.Configuration;
using BillingConsole.Domain.Billing;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Changes;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Engine.Telemetry;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.Engine.Billing;

/// <summary>What one chunk did.</summary>
/// <param name="DeferredUntil">Charging was paused by the gateway's circuit breaker: the chunk is to run again from then on.</param>
public sealed record ChunkOutcome(int Invoiced, int Charged, int Failed, DateTimeOffset? DeferredUntil = null);

/// <summary>
/// Does the work of one chunk of a billing run. Invoicing is one transaction: the chunk's due subscriptions are locked,
/// each is run through the pure <see cref="InvoiceGenerator"/>, and invoices, lines, ledger entries, new periods, credit
/// balances and the run's counters are written in batches. The unique key (subscription, period start) and the row locks
/// make a rerun, a crash mid-chunk or a second node running the same chunk harmless. Then the new invoices are charged
/// through <see cref="PaymentProcessor.ChargeManyAsync"/> with bounded concurrency.
/// </summary>
public sealed class BillingChunkProcessor(
    BillingDbContext db,
    NpgsqlDataSource dataSource,
    InvoiceGenerator generator,
    CustomerTaxes taxes,
    InvoiceNumbers numbers,
    BillingChunkWriter writer,
    PaymentProcessor processor,
    ChangeCapture capture,
    ChangeFeed changes,
    GatewayCircuitBreaker breaker,
    BillingRunTimings timings,
    EngineTelemetry telemetry,
    TimeProvider clock,
    IOptionsMonitor<BillingOptions> options,
    ILogger<BillingChunkProcessor> logger)
{
    /// <summary>A subscription more periods behind than this is left for the next run rather than invoiced many times at once.</summary>
    public const int MaxPeriodsPerSubscription = 24;

    /// <summary>How soon a chunk looks again at invoices that were busy without a claim on them (held for a statement).</summary>
    private static readonly TimeSpan BusyRecheck = TimeSpan.FromSeconds(5);

    public async Task<ChunkOutcome> RunAsync(Guid runId, int chunkNumber, CancellationToken ct)
    {
        var run = await db.BillingRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct)
            ?? throw new InvalidOperationException($"Billing run {runId} does not exist.");
        var chunk = await db.BillingRunChunks.AsNoTracking().FirstOrDefaultAsync(c => c.RunId == runId && c.Number == chunkNumber, ct)
            ?? throw new InvalidOperationException($"Billing run {runId} has no chunk {chunkNumber}.");
        // The chunk announces each finished step of the run instead of every invoice, payment and case it writes, so that a
        // million-row run does not flood the live-update bus.
        using var perChunk = capture.Suppress();
        IReadOnlyList<EntityChange> runChanged = [new(ChangedEntity.BillingRun, runId)];
        var invoiced = chunk.InvoicedAt is null ? await InvoiceAsync(run, chunk, ct) : chunk.InvoicedCount;
        if (chunk.InvoicedAt is null) changes.Publish(runChanged);
        var (charged, failed, deferredUntil) = chunk.ChargedAt is null ? await ChargeAsync(run, chunk, ct) : (chunk.ChargedCount, chunk.FailedCount, null);
        if (deferredUntil is null) await writer.CompleteRunIfDoneAsync(runId, clock.GetUtcNow(), ct);
        changes.Publish(runChanged);
        return new ChunkOutcome(invoiced, charged, failed, deferredUntil);
    }

    /// <summary>Invoices the chunk's due subscriptions in one transaction; returns how many invoices were written.</summary>
    public async Task<int> InvoiceAsync(BillingRun run, BillingRunChunk chunk, CancellationToken ct)
    {
        var settings = options.CurrentValue;
        var lap = timings.Start();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();

        // The customers first, with the lock the engine's commands take, so that a command moving one of them and the chunk
        // wait for each other and each reads the balance the other wrote; then their subscriptions, in customer order. Two
        // chunks never wait on each other in a cycle, and a second node running this chunk waits here, then finds the periods
        // advanced and nothing due.
        var customerIds = await db.Subscriptions.AsNoTracking().Where(s => chunk.SubscriptionIds.Contains(s.Id))
            .Select(s => s.CustomerId).Distinct().ToArrayAsync(ct);
        var creditBefore = await UnitOfWork.LockCustomersAsync(connection, customerIds, ct);
        var subscriptions = await db.Subscriptions
            .FromSql($"""
                select s.*, s.xmin from subscriptions s
                where s.id = any({chunk.SubscriptionIds}) and s.status in ('trialing', 'active', 'past_due') and s.current_period_end <= {run.AsOf}
                order by s.customer_id, s.id
                for update
                """)
            .AsNoTracking()
            .ToListAsync(ct);
        lap.Done(BillingRunPhase.Lock);
        var credit = new Dictionary<Guid, Money>(creditBefore);
        var alreadyInvoiced = await writer.ExistingCycleInvoicesAsync(connection, [.. subscriptions.Select(s => s.Id)], ct);
        var prices = await PricesAsync(ct);
        var waiting = await WaitingLinesAsync(subscriptions, ct);
        var discounts = await SubscriptionDiscounts.ForAsync(db, [.. subscriptions.Select(s => (s.Id, s.CustomerId))], ct);
        var daysUntilDue = await writer.DaysUntilDueAsync(connection, [.. creditBefore.Keys], ct);
        var customerTax = await taxes.ForAsync(customerIds, ct);
        lap.Done(BillingRunPhase.Load);

        var now = clock.GetUtcNow();
        var generated = new List<GeneratedInvoice>();
        // The waiting lines each new invoice carries, by the invoice's position in generated.
        var carried = new Dictionary<int, List<PendingInvoiceLine>>();
        foreach (var subscription in subscriptions)
        {
            for (var period = 0; period < MaxPeriodsPerSubscription; period++)
            {
                var snapshot = BillableSubscription.From(subscription, prices[subscription.PriceId],
                    subscription.PendingPriceId is { } pending ? prices[pending] : null, discounts.GetValueOrDefault(subscription.Id));
                var decision = InvoiceGenerator.Decide(snapshot, run.AsOf);
                if (decision is not (RenewalDecision.Renew or RenewalDecision.Cancel)) break;

                // Credit in another currency than the price cannot pay this invoice.
                var usesCredit = credit.TryGetValue(subscription.CustomerId, out var balance) && balance.Currency == snapshot.Currency;
                var lines = waiting.GetValueOrDefault(subscription.Id) ?? [];
                // A renewal, or the final invoice of waiting lines when the subscription ends at this period end.
                var invoice = generator.Generate(snapshot, [.. lines.Select(InvoiceLineDraft.From)],
                    usesCredit ? balance : Money.Zero(snapshot.Currency), customerTax[subscription.CustomerId], run.AsOf);
                if (invoice is not null && (decision == RenewalDecision.Cancel || !alreadyInvoiced.Contains((subscription.Id, invoice.PeriodStart))))
                {
                    if (lines.Count > 0) carried[generated.Count] = lines;
                    waiting.Remove(subscription.Id);
                    generated.Add(invoice);
                    if (usesCredit) credit[subscription.CustomerId] = invoice.CreditRemaining;
                }
                if (decision == RenewalDecision.Cancel)
                {
                    subscription.Cancel(subscription.CurrentPeriodEnd, CancellationKind.Voluntary);
                    break;
                }
                // Decide said the period is due, so Generate has its invoice; only a cancellation may leave nothing to bill.
                var renewal = invoice ?? throw new InvalidOperationException($"Subscription {subscription.Id} is due for renewal but produced no invoice.");
                subscription.AdvancePeriod(renewal.PeriodStart, renewal.PeriodEnd);
            }
        }

        var invoiceNumbers = generated.Count == 0 ? [] : await numbers.NextBlockAsync(generated.Count, ct);
        var issued = generated.Select((invoice, i) => InvoiceIssuer.Issue(invoice, invoiceNumbers[i], now,
            InvoiceIssuer.PaymentTerms(settings, daysUntilDue.TryGetValue(invoice.CustomerId, out var days) ? days : null), run.Id)).ToList();
        foreach (var (index, lines) in carried)
            foreach (var line in lines) line.MarkInvoiced(issued[index].Invoice.Id);
        lap.Done(BillingRunPhase.Generate);
        await writer.WriteInvoicesAsync(connection, issued, ct);
        await writer.MarkLinesInvoicedAsync(connection, [.. carried.Values.SelectMany(lines => lines)], ct);
        lap.Done(BillingRunPhase.WriteInvoices);
        await writer.UpdateSubscriptionsAsync(connection, subscriptions, ct);
        await writer.UpdateCreditBalancesAsync(connection,
            credit.Where(c => c.Value != creditBefore[c.Key]).ToDictionary(c => c.Key, c => (creditBefore[c.Key], c.Value)), ct);
        await writer.RecordChunkInvoicedAsync(connection, run.Id, chunk.Number, issued.Count, now, ct);
        await transaction.CommitAsync(ct);
        lap.Done(BillingRunPhase.AdvancePeriods);
        telemetry.SubscriptionsBilled(subscriptions.Count, issued.Count);
        logger.LogInformation("Billing run {RunId} chunk {Chunk}: {Invoiced} invoices for {Due} due subscriptions",
            run.Id, chunk.Number, issued.Count, subscriptions.Count);
        return issued.Count;
    }

    /// <summary>
    /// Charges the chunk's open invoices from this run that have not been tried yet (or whose only try never reached the
    /// gateway), so a rerun after a crash charges what is left and retries nothing: retries belong to dunning. Invoices of
    /// customers sent their invoices (send_invoice) are never charged.
    /// While the gateway's circuit breaker holds charges back the chunk stays uncharged and says until when, so that it runs
    /// again then; the rerun also sends again, under their own keys, the charges whose faults opened the breaker.
    /// </summary>
    public async Task<(int Charged, int Failed, DateTimeOffset? DeferredUntil)> ChargeAsync(BillingRun run, BillingRunChunk chunk, CancellationToken ct)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var lap = timings.Start();
        await db.Database.OpenConnectionAsync(ct);
        IReadOnlyList<Guid> invoiceIds;
        try
        {
            invoiceIds = await writer.InvoicesToChargeAsync(connection, run.Id, chunk.SubscriptionIds, ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        lap.Done(BillingRunPhase.Load);

        var results = await processor.ChargeManyAsync(invoiceIds, PaymentTrigger.BillingRun, Actor.System, ct);
        var deferredUntil = await DeferredUntilAsync(results, ct);

        lap = timings.Start();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var (charged, failed) = await writer.RecordChunkChargedAsync(connection, run.Id, chunk, clock.GetUtcNow(), finished: deferredUntil is null, ct);
            lap.Done(BillingRunPhase.RecordOutcomes);
            logger.LogInformation("Billing run {RunId} chunk {Chunk}: {Charged} charged, {Failed} failed, {Tried} tried now, {Deferred} deferred until {DeferredUntil}",
                run.Id, chunk.Number, charged, failed, invoiceIds.Count, results.Count(r => r.Status == ChargeStatus.Deferred), deferredUntil);
            return (charged, failed, deferredUntil);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// When the chunk should charge again: some charges were held back, some invoices were claimed elsewhere, or charges
    /// faulted into a breaker that is now open.
    /// </summary>
    private async Task<DateTimeOffset?> DeferredUntilAsync(IReadOnlyList<ChargeResult> results, CancellationToken ct)
    {
        var deferred = results.Where(r => r.Status == ChargeStatus.Deferred).ToList();
        // Even when the breaker has closed meanwhile: the invoices held back were never charged.
        if (deferred.Count > 0) return deferred.Max(r => r.RetryAt) ?? clock.GetUtcNow();
        // Claimed elsewhere: by a node charging it now, or by one that died mid-charge. The chunk looks again as the first of
        // those claims lapses (a live holder renews its claim, and the chunk looks again later still), and charges what a dead
        // node left instead of leaving it to the reconciliation job. An invoice held only for a statement (a void, a reported
        // outcome) is looked at again shortly.
        var busy = results.Where(r => r.Status == ChargeStatus.Busy).Select(r => r.InvoiceId).ToList();
        if (busy.Count > 0)
        {
            var now = clock.GetUtcNow();
            return await ChargeClaims.FirstLapseAsync(dataSource, busy, now, ct) ?? now + BusyRecheck;
        }
        if (!results.Any(r => r.Status == ChargeStatus.Unknown)) return null;
        var circuit = await breaker.CurrentAsync(ct);
        return circuit.State == CircuitState.Closed ? null : circuit.RetryAt ?? clock.GetUtcNow();
    }

    /// <summary>Proration lines waiting for these subscriptions' next invoice (rows already locked through their subscriptions).</summary>
    private async Task<Dictionary<Guid, List<PendingInvoiceLine>>> WaitingLinesAsync(IReadOnlyList<Subscription> subscriptions, CancellationToken ct)
    {
        var ids = subscriptions.Select(s => s.Id).ToArray();
        var lines = await db.PendingInvoiceLines.AsNoTracking()
            .Where(l => ids.Contains(l.SubscriptionId) && l.InvoiceId == null)
            .OrderBy(l => l.CreatedAt).ThenBy(l => l.Position)
            .ToListAsync(ct);
        return lines.GroupBy(l => l.SubscriptionId).ToDictionary(g => g.Key, g => g.ToList());
    }

    private async Task<Dictionary<Guid, BillablePrice>> PricesAsync(CancellationToken ct)
    {
        var plans = await db.Plans.AsNoTracking().Include(p => p.Prices).ToListAsync(ct);
        return plans.SelectMany(plan => plan.Prices.Select(price => BillablePrice.From(plan, price))).ToDictionary(p => p.PriceId);
    }
}
