using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// A person closing an invoice without payment: voiding it (as if never issued) or writing it off as uncollectible. Each
/// posts its ledger transaction, closes the invoice's open dunning case and records the agent and reason, in one transaction.
/// </summary>
public sealed class InvoiceCommands(BillingDbContext db, PaymentProcessor processor, InvoiceChargeLock chargeLock, DunningService dunning, AuditTrail audit,
    TimeProvider clock)
{
    /// <summary>
    /// Voids an open or uncollectible invoice: the ledger reverses it and the customer gets back the credit it used. A past-due
    /// subscription with nothing else outstanding is active again, since what made it past due no longer exists.
    /// </summary>
    public Task<InvoiceView> VoidAsync(Guid invoiceId, Actor actor, string reason, CancellationToken ct) =>
        CloseAsync(invoiceId, InvoiceEvent.Voided, "invoice.voided", actor, reason, async (invoice, customer, now) =>
        {
            var outstanding = invoice.Void(now);
            if (invoice.CreditApplied.IsPositive) customer.AddCredit(invoice.CreditApplied);
            await RecoverSubscriptionIfSettledAsync(db, invoice, ct);
            return LedgerPostings.InvoiceVoided(invoice, outstanding, now);
        }, ct);

    /// <summary>Writes off what is still due on an open invoice: Dr bad debt, Cr receivable. A later payment reverses it.</summary>
    public Task<InvoiceView> MarkUncollectibleAsync(Guid invoiceId, Actor actor, string reason, CancellationToken ct) =>
        CloseAsync(invoiceId, InvoiceEvent.MarkedUncollectible, "invoice.marked_uncollectible", actor, reason,
            (invoice, _, now) => Task.FromResult(LedgerPostings.WriteOff(invoice, invoice.MarkUncollectible(now), now)), ct);

    /// <summary>
    /// Takes back a write-off: the invoice is open again, the ledger reverses the write-off (Dr receivable, Cr bad debt) and
    /// a new dunning case under the policy in force collects it from now on, with its first retry scheduled.
    /// </summary>
    public async Task<InvoiceView> ReopenAsync(Guid invoiceId, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        db.ChangeTracker.Clear();
        return await db.InTransactionAsync(async () =>
        {
            await db.LockCustomerOfInvoiceAsync(invoiceId, ct);
            var invoice = await db.Invoices.SingleAsync(i => i.Id == invoiceId, ct);
            if (!Invoice.Lifecycle.CanFire(invoice.Status, InvoiceEvent.Reopened))
                throw new DomainRuleException($"Only a written-off invoice can be reopened; this one is {invoice.Status.ToSnakeCase().Replace('_', ' ')}.");
            var before = InvoiceView.From(invoice);
            var now = clock.GetUtcNow();
            var writtenOffAt = invoice.MarkedUncollectibleAt!.Value;
            var owed = invoice.Reopen();
            db.LedgerEntries.AddRange(LedgerPostings.WriteOffReversed(invoice, owed, writtenOffAt, now).SelectMany(t => t.Balanced()));
            await dunning.OpenForReopenedInvoiceAsync(invoice, ct);
            var after = InvoiceView.From(invoice);
            audit.Record(actor, "invoice.reopened", "invoice", invoiceId, reason, before, after);
            await db.SaveChangesAsync(ct);
            return after;
        }, ct);
    }

    private async Task<InvoiceView> CloseAsync(Guid invoiceId, InvoiceEvent closing, string action, Actor actor, string reason,
        Func<Invoice, Customer, DateTimeOffset, Task<IReadOnlyList<LedgerTransaction>>> close, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        // A charge whose outcome was never learned may have taken the money: ask the gateway before closing the invoice.
        if (await processor.ReconcileAsync(invoiceId, actor, ct) is { Status: ChargeStatus.Busy } busy) throw new DomainRuleException(busy.Message!);
        db.ChangeTracker.Clear();
        return await db.InTransactionAsync(async () =>
        {
            var customerId = await db.LockCustomerOfInvoiceAsync(invoiceId, ct);
            await db.RequireNoPaymentInFlightAsync(chargeLock, invoiceId, ct);

            var invoice = await db.Invoices.Include(i => i.Lines).SingleAsync(i => i.Id == invoiceId, ct);
            if (!Invoice.Lifecycle.CanFire(invoice.Status, closing))
                throw new DomainRuleException($"A {invoice.Status.ToSnakeCase().Replace('_', ' ')} invoice cannot be {closing.ToSnakeCase().Replace('_', ' ')}.");
            var customer = await db.Customers.SingleAsync(c => c.Id == customerId, ct);
            var before = InvoiceView.From(invoice);
            var now = clock.GetUtcNow();
            var transactions = await close(invoice, customer, now);
            db.LedgerEntries.AddRange(transactions.SelectMany(t => t.Balanced()));
            await dunning.CloseForClosedInvoiceAsync(invoiceId, now, ct);
            var after = InvoiceView.From(invoice);
            audit.Record(actor, action, "invoice", invoiceId, reason, before, after);
            await db.SaveChangesAsync(ct);
            return after;
        }, ct);
    }

    /// <summary>A past-due subscription whose invoice no longer needs paying, with nothing else outstanding, is active again.</summary>
    internal static async Task RecoverSubscriptionIfSettledAsync(BillingDbContext db, Invoice invoice, CancellationToken ct)
    {
        if (invoice.SubscriptionId is not { } subscriptionId) return;
        var subscription = await db.Subscriptions.SingleAsync(s => s.Id == subscriptionId, ct);
        if (subscription.Status != SubscriptionStatus.PastDue) return;
        var otherOpen = await db.Invoices.AnyAsync(i => i.SubscriptionId == subscriptionId && i.Id != invoice.Id && i.Status == InvoiceStatus.Open, ct);
        if (!otherOpen) subscription.Recover();
    }
}
