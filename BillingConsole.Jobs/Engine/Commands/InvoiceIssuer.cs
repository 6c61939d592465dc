using BillingConsole.Configuration;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Engine.Notifications;
using BillingConsole.Persistence;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// Issues one calculated invoice: numbers it, finalizes it, posts its ledger transactions and moves the customer's credit.
/// Everything is added to the caller's unit of work; the caller saves once, so the invoice and its money move together or not at all.
/// The billing run writes chunks of invoices with batched SQL instead (see Engine.Billing.BillingChunkProcessor) but issues
/// each one through <see cref="Issue"/>, so both paths give the same totals and the same ledger transactions.
/// </summary>
public sealed class InvoiceIssuer(BillingDbContext db, InvoiceNumbers numbers, TimeProvider clock, IOptionsMonitor<BillingOptions> options)
{
    /// <param name="terms">For an invoice collected its own way (a one-off); null follows the customer's collection method.</param>
    public async Task<Invoice> IssueAsync(Customer customer, GeneratedInvoice generated, Guid? billingRunId, CancellationToken ct, InvoiceTerms? terms = null)
    {
        if (customer.Id != generated.CustomerId) throw new ArgumentException("The invoice belongs to another customer.", nameof(customer));
        var issued = Issue(generated, await numbers.NextAsync(ct), clock.GetStoredNow(),
            terms?.PaymentTerms ?? PaymentTerms(options.CurrentValue, customer.DaysUntilDue), billingRunId, terms?.Method);
        if (generated.CreditApplied.IsPositive) customer.UseCredit(generated.CreditApplied);
        if (generated.CreditGranted.IsPositive) customer.AddCredit(generated.CreditGranted);
        db.Invoices.Add(issued.Invoice);
        db.LedgerEntries.AddRange(issued.LedgerEntries);
        NotificationOutbox.InvoiceIssued(db, issued.Invoice, issued.Invoice.IssuedAt!.Value);
        return issued.Invoice;
    }

    /// <summary>The finalized invoice and its balanced ledger entries; writes nothing. Customer credit moves to <see cref="GeneratedInvoice.CreditRemaining"/>.</summary>
    public static IssuedInvoice Issue(GeneratedInvoice generated, string number, DateTimeOffset at, TimeSpan paymentTerms, Guid? billingRunId,
        CollectionMethod? collection = null)
    {
        var invoice = generated.ToInvoice(at, billingRunId);
        if (collection is { } method) invoice.CollectBy(method);
        invoice.Finalize(number, at, paymentTerms);
        return new IssuedInvoice(invoice, [.. LedgerPostings.InvoiceIssued(invoice).SelectMany(transaction => transaction.Balanced())]);
    }

    /// <summary>A sent invoice is due after the customer's own days until due; a charged one after the configured terms.</summary>
    public static TimeSpan PaymentTerms(BillingOptions options, int? daysUntilDue) => TimeSpan.FromDays(daysUntilDue ?? options.PaymentTermsDays);
}

/// <summary>How one invoice is collected when it says so itself instead of following its customer: a one-off, charged or sent.</summary>
public sealed record InvoiceTerms(CollectionMethod Method, TimeSpan PaymentTerms);
