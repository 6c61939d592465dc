using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// Refunds of a paid invoice's payment, in two steps so that money never moves without its record. First the refund is
/// recorded as pending under the customer's lock, where the amount still refundable is checked against every refund not
/// failed: concurrent requests queue on that lock and can never refund more than was paid. Then it is sent to the gateway
/// under its own idempotency key, and the answer applied: succeeded posts the ledger (Dr refunds, Cr cash) and issues a credit
/// note; failed frees the amount; no answer leaves it pending for the reconciliation job, which sends it again under the same key.
/// </summary>
public sealed class RefundCommands(
    BillingDbContext db,
    IPaymentGateway gateway,
    InvoiceNumbers numbers,
    AuditTrail audit,
    TimeProvider clock,
    IOptionsMonitor<BillingOptions> billing,
    IOptionsMonitor<GatewayOptions> gatewayOptions,
    IValidator<RefundPayment> validator,
    ILogger<RefundCommands> logger)
{
    /// <summary>The console role whose refunds are capped by <see cref="BillingOptions.SupportRefundLimit"/>.</summary>
    public const string SupportRole = "support";

    /// <summary>Records the refund and sends it at once: what a person does from the invoice page.</summary>
    public async Task<RefundView> RefundAsync(Guid invoiceId, RefundPayment input, Actor actor, string reason, CancellationToken ct)
    {
        var requested = await RequestAsync(invoiceId, input, actor, reason, ct);
        return await SendAsync(requested.Id, ct);
    }

    /// <summary>Records a pending refund after checking what is left to refund; sends nothing (see <see cref="SendAsync"/>).</summary>
    public async Task<RefundView> RequestAsync(Guid invoiceId, RefundPayment input, Actor actor, string reason, CancellationToken ct)
    {
        await validator.ValidateAndThrowAsync(input, ct);
        AuditTrail.RequireReason(reason);
        db.ChangeTracker.Clear();
        return await db.InTransactionAsync(async () =>
        {
            await db.LockCustomerOfInvoiceAsync(invoiceId, ct);
            var invoice = await db.Invoices.SingleAsync(i => i.Id == invoiceId, ct);
            if (invoice.Status != InvoiceStatus.Paid)
                throw new DomainRuleException($"Only a paid invoice can be refunded; this one is {invoice.Status.ToSnakeCase().Replace('_', ' ')}.");
            var payment = await db.PaymentAttempts.SingleOrDefaultAsync(a => a.InvoiceId == invoiceId && a.Status == PaymentAttemptStatus.Succeeded, ct)
                          ?? throw new DomainRuleException("This invoice was settled without a card payment, so there is nothing to refund at the gateway; issue a credit note instead.");
            var left = await RefundableAsync(invoice, payment, ct);
            var amount = input.Amount is { } requested ? Money.Exact(requested, invoice.Currency) : left;
            if (!left.IsPositive) throw new DomainRuleException("Everything paid on this invoice has been refunded or credited already; nothing was refunded.");
            if (amount > left) throw new DomainRuleException($"The refund of {amount} is more than the {left} left to refund on this payment; nothing was refunded.");
            var limit = new Money(billing.CurrentValue.SupportRefundLimit, invoice.Currency);
            if (actor.Role == SupportRole && amount > limit)
                throw new DomainRuleException($"Support may refund up to {limit} at once; a refund of {amount} needs an admin.");

            var refund = new Refund(payment, amount, CreditReasons.Parse(input.Reason!), input.Memo, actor.Name, clock.GetUtcNow());
            db.Refunds.Add(refund);
            var view = RefundView.From(refund, null);
            audit.Record(actor, "refund.requested", "invoice", invoiceId, reason, null, view);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);
    }

    /// <summary>
    /// What may still be refunded: the payment less every refund not failed, and never more than the invoice's credit notes
    /// leave uncredited (less the refunds still pending, whose credit notes are not issued yet).
    /// </summary>
    private async Task<Money> RefundableAsync(Invoice invoice, PaymentAttempt payment, CancellationToken ct)
    {
        var refunds = await db.Refunds.Where(r => r.InvoiceId == invoice.Id && r.Status != RefundStatus.Failed)
            .Select(r => new { r.PaymentAttemptId, r.Status, Amount = EF.Property<decimal>(r, "_amount") }).ToListAsync(ct);
        var refunded = new Money(refunds.Where(r => r.PaymentAttemptId == payment.Id).Sum(r => r.Amount), invoice.Currency);
        var pending = new Money(refunds.Where(r => r.Status == RefundStatus.Pending).Sum(r => r.Amount), invoice.Currency);
        return Money.Max(Money.Min(payment.Amount - refunded, invoice.Creditable - pending), Money.Zero(invoice.Currency));
    }

    /// <summary>
    /// Sends a pending refund to the gateway under its own key and applies the answer. A refund that is no longer pending is
    /// not sent again; a call that gets no answer leaves it pending.
    /// </summary>
    public async Task<RefundView> SendAsync(Guid refundId, CancellationToken ct)
    {
        var refund = await db.Refunds.AsNoTracking().SingleOrDefaultAsync(r => r.Id == refundId, ct) ?? throw new ResourceNotFoundException("refund", refundId);
        if (refund.Status != RefundStatus.Pending) return await ViewAsync(refundId, ct);
        GatewayRefundResult answer;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            deadline.CancelAfter(gatewayOptions.CurrentValue.ChargeTimeoutMs);
            try
            {
                answer = await gateway.RefundAsync(new GatewayRefundRequest(refund.Gateway, refund.IdempotencyKey, refund.ChargeReference, refund.Amount,
                    refund.Reason.ToSnakeCase()), deadline.Token);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning(e, "Refund {RefundId} got no answer from the gateway; it stays pending and is sent again under the same key", refundId);
                return await ViewAsync(refundId, ct);
            }
        }
        return await ApplyAsync(refundId, answer, ct);
    }

    /// <summary>
    /// A refund outcome the gateway reported by webhook, found by the refund's idempotency key (in the refund's metadata).
    /// Null when no refund of ours has that key (one made at the gateway by hand).
    /// </summary>
    public async Task<RefundView?> ApplyReportedAsync(string idempotencyKey, GatewayRefundResult answer, CancellationToken ct)
    {
        var refundId = await db.Refunds.Where(r => r.IdempotencyKey == idempotencyKey).Select(r => (Guid?)r.Id).SingleOrDefaultAsync(ct);
        return refundId is { } id ? await ApplyAsync(id, answer, ct) : null;
    }

    /// <summary>Applies the gateway's answer under the customer's lock; an answer for a refund already settled changes nothing.</summary>
    private async Task<RefundView> ApplyAsync(Guid refundId, GatewayRefundResult answer, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        return await db.InTransactionAsync(async () =>
        {
            var customerId = await db.Refunds.Where(r => r.Id == refundId).Select(r => r.CustomerId).SingleAsync(ct);
            await db.LockCustomerAsync(customerId, ct);
            var refund = await db.Refunds.SingleAsync(r => r.Id == refundId, ct);
            if (refund.Status != RefundStatus.Pending) return await ViewAsync(refundId, ct);
            var now = clock.GetUtcNow();
            CreditNote? note = null;
            switch (answer.Status)
            {
                case GatewayRefundStatus.Succeeded:
                    refund.Succeed(answer.GatewayReference, now);
                    var invoice = await db.Invoices.SingleAsync(i => i.Id == refund.InvoiceId, ct);
                    note = invoice.Credit(await numbers.NextCreditNoteAsync(ct),
                        [new CreditNoteLine($"Refund of the payment of invoice {invoice.Number}", refund.Amount)], refund.Reason, refund.Memo, refund.Id, now);
                    db.CreditNotes.Add(note);
                    db.LedgerEntries.AddRange(LedgerPostings.Refund(invoice, refund.Id, note).SelectMany(t => t.Balanced()));
                    break;
                case GatewayRefundStatus.Failed:
                    refund.Fail(answer.GatewayReference, answer.FailureMessage ?? "The gateway refused the refund.", now);
                    break;
                default:
                    refund.Acknowledge(answer.GatewayReference);
                    break;
            }
            var view = RefundView.From(refund, note);
            if (refund.Status != RefundStatus.Pending)
                audit.Record(Actor.System, $"refund.{refund.Status.ToSnakeCase()}", "invoice", refund.InvoiceId,
                    $"The gateway answered refund {refund.IdempotencyKey}: {refund.Status.ToSnakeCase()}", null, view);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);
    }

    public async Task<RefundView> ViewAsync(Guid refundId, CancellationToken ct)
    {
        var refund = await db.Refunds.AsNoTracking().SingleOrDefaultAsync(r => r.Id == refundId, ct) ?? throw new ResourceNotFoundException("refund", refundId);
        var note = await db.CreditNotes.AsNoTracking().Include(n => n.Lines).SingleOrDefaultAsync(n => n.RefundId == refundId, ct);
        return RefundView.From(refund, note);
    }

    /// <summary>
    /// Sends again every refund left pending without an answer (a timeout, a crash between recording and sending) for longer
    /// than the reconciliation grace, under its own key, so the gateway answers with what it did the first time. A refund the
    /// gateway accepted as pending waits for its webhook instead. Returns how many were settled.
    /// </summary>
    public async Task<int> ReconcileAsync(CancellationToken ct)
    {
        var cutoff = clock.GetUtcNow() - TimeSpan.FromSeconds(gatewayOptions.CurrentValue.ReconcileGraceSeconds);
        var pending = await db.Refunds.AsNoTracking()
            .Where(r => r.Status == RefundStatus.Pending && r.GatewayReference == null && r.CreatedAt < cutoff)
            .OrderBy(r => r.CreatedAt).Select(r => r.Id).Take(500).ToListAsync(ct);
        var settled = 0;
        foreach (var refundId in pending)
        {
            if ((await SendAsync(refundId, ct)).Status != "pending") settled++;
        }
        return settled;
    }
}
