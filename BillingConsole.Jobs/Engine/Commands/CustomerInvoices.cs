using BillingConsole.Domain.Invoicing;
using BillingConsole.Persistence;
using FluentValidation;
using FluentValidation.Results;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// A customer's invoices, newest first, keyset-paged on (created_at, id) so a page costs the same however deep it is: the
/// upstream API's busiest read. One statement for a page with invoices (whether the customer exists is asked only when the
/// page is empty), compiled once, on a pooled read context; invoices and their lines are read as a projection, not an
/// Include, and mapped by <see cref="InvoiceView.From(Invoice, IEnumerable{InvoiceLine})"/>.
/// </summary>
public sealed class CustomerInvoices(ReadContexts contexts)
{
    private sealed record InvoiceWithLines(Invoice Invoice, List<InvoiceLine> Lines);

    private sealed record Cursor(DateTimeOffset CreatedAt, Guid Id);

    // The first page passes no cursor: PostgreSQL plans each call with its values, so "is null" costs nothing there.
    private static readonly Func<BillingDbContext, Guid, DateTimeOffset?, Guid, int, IAsyncEnumerable<InvoiceWithLines>> Page =
        EF.CompileAsyncQuery((BillingDbContext db, Guid customerId, DateTimeOffset? afterCreatedAt, Guid afterId, int take) => db.Invoices
            .Where(i => i.CustomerId == customerId
                        && (afterCreatedAt == null || i.CreatedAt < afterCreatedAt || (i.CreatedAt == afterCreatedAt && i.Id < afterId)))
            .OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Id)
            .Take(take)
            .Select(i => new InvoiceWithLines(i, i.Lines.ToList())));

    private static readonly Func<BillingDbContext, Guid, Guid, Task<Cursor?>> FindCursor = EF.CompileAsyncQuery(
        (BillingDbContext db, Guid customerId, Guid invoiceId) => db.Invoices
            .Where(i => i.Id == invoiceId && i.CustomerId == customerId).Select(i => new Cursor(i.CreatedAt, i.Id)).SingleOrDefault());

    private static readonly Func<BillingDbContext, Guid, Task<bool>> CustomerExists = EF.CompileAsyncQuery(
        (BillingDbContext db, Guid customerId) => db.Customers.Any(c => c.Id == customerId));

    public async Task<InvoicePage> PageAsync(Guid customerId, int limit, Guid? startingAfter, CancellationToken ct)
    {
        if (limit is < 1 or > 100) throw new ValidationException([new ValidationFailure("limit", "The limit is between 1 and 100.")]);
        await using var db = contexts.Rent();
        Cursor? cursor = null;
        if (startingAfter is { } cursorId)
        {
            cursor = await FindCursor(db, customerId, cursorId);
            if (cursor is null)
            {
                await EnsureCustomerExistsAsync(db, customerId);
                throw new ResourceNotFoundException("invoice", cursorId);
            }
        }
        var data = new List<InvoiceView>(limit);
        var hasMore = false;
        await foreach (var row in Page(db, customerId, cursor?.CreatedAt, cursor?.Id ?? Guid.Empty, limit + 1).WithCancellation(ct))
        {
            if (data.Count == limit) hasMore = true;
            else data.Add(InvoiceView.From(row.Invoice, row.Lines));
        }
        if (data.Count == 0) await EnsureCustomerExistsAsync(db, customerId);
        return new InvoicePage(data, hasMore, hasMore ? data[^1].Id : null);
    }

    private static async Task EnsureCustomerExistsAsync(BillingDbContext db, Guid customerId)
    {
        if (!await CustomerExists(db, customerId)) throw new ResourceNotFoundException("customer", customerId);
    }
}
