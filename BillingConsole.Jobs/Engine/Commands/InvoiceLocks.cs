using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Commands;

/// <summary>What a person's change to an invoice's money takes first, inside its transaction.</summary>
internal static class InvoiceLocks
{
    /// <summary>Locks the invoice's customer (see <see cref="UnitOfWork.LockCustomerAsync"/>) and returns the customer's id.</summary>
    public static async Task<Guid> LockCustomerOfInvoiceAsync(this BillingDbContext db, Guid invoiceId, CancellationToken ct)
    {
        var customerId = await db.Invoices.Where(i => i.Id == invoiceId).Select(i => (Guid?)i.CustomerId).SingleOrDefaultAsync(ct)
                         ?? throw new ResourceNotFoundException("invoice", invoiceId);
        await db.LockCustomerAsync(customerId, ct);
        return customerId;
    }

    /// <summary>
    /// Takes the invoice's charge lock for the transaction and refuses while a payment is in flight or its outcome unknown:
    /// that payment could settle what the change is about to take off or close.
    /// </summary>
    public static async Task RequireNoPaymentInFlightAsync(this BillingDbContext db, InvoiceChargeLock chargeLock, Guid invoiceId, CancellationToken ct)
    {
        if (!await chargeLock.TryLockForTransactionAsync(invoiceId, ct))
            throw new DomainRuleException("A payment of this invoice is in progress; try again when it has finished.");
        if (await db.PaymentAttempts.AnyAsync(a => a.InvoiceId == invoiceId
                && (a.Status == PaymentAttemptStatus.Pending || a.Status == PaymentAttemptStatus.Unknown), ct))
            throw new DomainRuleException("The gateway has not confirmed the outcome of an earlier payment attempt; try again once it has.");
    }
}
