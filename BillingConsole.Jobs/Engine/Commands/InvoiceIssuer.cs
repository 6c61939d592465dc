using BillingConsole.Configuration;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Persistence;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// Issues one calculated invoice: numbers it, finalizes it, posts its ledger transactions and moves the customer's credit.
/// Everything is added to the caller's unit of work; the caller saves once, so the invoice and its money move together or not at all.
/// The billing run writes chunks of invoices with batched SQL instead (see BillingChunkWriter) but follows the same rules.
/// </summary>
public sealed class InvoiceIssuer(BillingDbContext db, InvoiceNumbers numbers, TimeProvider clock, IOptionsMonitor<BillingOptions> options)
{
    public async Task<Invoice> IssueAsync(Customer customer, GeneratedInvoice generated, Guid? billingRunId, CancellationToken ct)
    {
        if (customer.Id != generated.CustomerId) throw new ArgumentException("The invoice belongs to another customer.", nameof(customer));
        var now = clock.GetStoredNow();
        var invoice = generated.ToInvoice(now, billingRunId);
        invoice.Finalize(await numbers.NextAsync(ct), now, TimeSpan.FromDays(options.CurrentValue.PaymentTermsDays));
        if (generated.CreditApplied.IsPositive) customer.UseCredit(generated.CreditApplied);
        if (generated.CreditGranted.IsPositive) customer.AddCredit(generated.CreditGranted);
        db.Invoices.Add(invoice);
        foreach (var transaction in LedgerPostings.InvoiceIssued(invoice))
            db.LedgerEntries.AddRange(transaction.Balanced());
        return invoice;
    }
}
