using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// Credit notes a person issues on an invoice: on an open one the amount comes off what is due (an invoice credited in full
/// is settled, its dunning case closed); on a paid one it goes to the customer's credit balance, which the next invoices use.
/// Refunds issue their own credit notes (<see cref="RefundCommands"/>).
/// </summary>
public sealed class CreditNoteCommands(
    BillingDbContext db,
    InvoiceNumbers numbers,
    InvoiceChargeLock chargeLock,
    DunningService dunning,
    AuditTrail audit,
    TimeProvider clock,
    IValidator<IssueCreditNote> validator)
{
    public async Task<CreditNoteView> IssueAsync(Guid invoiceId, IssueCreditNote input, Actor actor, string reason, CancellationToken ct)
    {
        await validator.ValidateAndThrowAsync(input, ct);
        AuditTrail.RequireReason(reason);
        db.ChangeTracker.Clear();
        return await db.InTransactionAsync(async () =>
        {
            var customerId = await db.LockCustomerOfInvoiceAsync(invoiceId, ct);
            await db.RequireNoPaymentInFlightAsync(chargeLock, invoiceId, ct);

            var invoice = await db.Invoices.SingleAsync(i => i.Id == invoiceId, ct);
            var lines = input.Lines!.Select(l => new CreditNoteLine(l.Description!.Trim(), Money.Exact(l.Amount!.Value, invoice.Currency))).ToList();
            var total = lines.Aggregate(Money.Zero(invoice.Currency), (sum, line) => sum + line.Amount);
            // Pending refunds will issue credit notes of their own once the gateway confirms them.
            var pendingRefunds = new Money(await db.Refunds.Where(r => r.InvoiceId == invoiceId && r.Status == RefundStatus.Pending)
                .SumAsync(r => EF.Property<decimal>(r, "_amount"), ct), invoice.Currency);
            if (pendingRefunds.IsPositive && total > invoice.Creditable - pendingRefunds)
                throw new DomainRuleException($"The credit note of {total} is more than the {Money.Max(invoice.Creditable - pendingRefunds, Money.Zero(invoice.Currency))} of this invoice neither credited nor being refunded.");

            var now = clock.GetUtcNow();
            var note = invoice.Credit(await numbers.NextCreditNoteAsync(ct), lines, CreditReasons.Parse(input.Reason!), input.Memo, null, now);
            db.CreditNotes.Add(note);
            if (note.Settlement == CreditNoteSettlement.CustomerCredited)
                (await db.Customers.SingleAsync(c => c.Id == customerId, ct)).AddCredit(note.Total);
            db.LedgerEntries.AddRange(LedgerPostings.CreditNoteIssued(invoice, note).SelectMany(t => t.Balanced()));
            if (invoice.Status == InvoiceStatus.Paid && note.Settlement == CreditNoteSettlement.AmountDueReduced)
            {
                await dunning.CloseForClosedInvoiceAsync(invoiceId, now, ct);
                await InvoiceCommands.RecoverSubscriptionIfSettledAsync(db, invoice, ct);
            }
            var view = CreditNoteView.From(note);
            audit.Record(actor, "credit_note.issued", "invoice", invoiceId, reason, null, view);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);
    }

    public async Task<CreditNote?> FindAsync(Guid creditNoteId, CancellationToken ct) =>
        await db.CreditNotes.AsNoTracking().Include(n => n.Lines).SingleOrDefaultAsync(n => n.Id == creditNoteId, ct);
}
