using BillingConsole.Configuration;
using BillingConsole.Domain.Invoicing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>The invoice list's filters, as they appear in the page's URL.</summary>
public sealed record InvoiceListFilter
{
    [NamesOf(typeof(InvoiceStatus))] public string? Status { get; set; }
    public Guid? CustomerId { get; set; }
    public Guid? SubscriptionId { get; set; }
    /// <summary>An invoice number, or part of a customer's name or email.</summary>
    public string? Search { get; set; }
    public DateOnly? DueFrom { get; set; }
    public DateOnly? DueTo { get; set; }
    public DateOnly? CreatedFrom { get; set; }
    public DateOnly? CreatedTo { get; set; }
    public decimal? MinAmount { get; set; }
    public decimal? MaxAmount { get; set; }
    public string? Currency { get; set; }
    /// <summary>The customers on a test clock are left out, as from the figures, unless this is true.</summary>
    public bool? ShowTestCustomers { get; set; }
}

public sealed record InvoiceRow(Guid Id, string? Number, Guid CustomerId, string CustomerName, string CustomerEmail, string Status, string Kind,
    string Currency, decimal Total, decimal AmountDue, DateTimeOffset CreatedAt, DateTimeOffset? DueAt, DateTimeOffset? PaidAt, int AttemptCount, bool OnTestClock);

public sealed class InvoiceList(NpgsqlDataSource dataSource, IOptions<ListOptions> options)
{
    private static readonly Dictionary<string, string> Sorts = new()
    {
        ["number"] = "i.number", ["customerName"] = "c.name", ["status"] = "i.status, i.created_at", ["total"] = "i.total",
        ["amountDue"] = "i.amount_due", ["createdAt"] = "i.created_at", ["dueAt"] = "i.due_at",
    };

    /// <summary>The columns the list sorts by, as the page and its URL name them.</summary>
    public static IReadOnlyCollection<string> SortKeys => Sorts.Keys;

    public Task<PageResult<InvoiceRow>> PageAsync(InvoiceListFilter filter, PageRequest request, CancellationToken ct) =>
        Query(filter).PageAsync<InvoiceRow>(dataSource, request, ct);

    public IAsyncEnumerable<InvoiceRow> StreamAsync(InvoiceListFilter filter, string? sortBy, bool descending, CancellationToken ct) =>
        Query(filter).StreamAsync<InvoiceRow>(dataSource, sortBy, descending, ct);

    private ListQuery Query(InvoiceListFilter filter) =>
        new ListQuery(options.Value, 
            "i.id, i.number, i.customer_id, c.name as customer_name, c.email as customer_email, i.status, i.kind, i.currency, i.total, i.amount_due, i.created_at, i.due_at, i.paid_at, i.attempt_count, c.test_clock_id is not null as on_test_clock",
            "invoices i", ["join customers c on c.id = i.customer_id"], Sorts, "i.created_at", "i.id")
        .WhereIf(filter.Status is not null, "i.status = @status", "status", filter.Status)
        .WhereIf(filter.CustomerId is not null, "i.customer_id = @customerId", "customerId", filter.CustomerId)
        .WhereIf(filter.SubscriptionId is not null, "i.subscription_id = @subscriptionId", "subscriptionId", filter.SubscriptionId)
        .WhereCustomerMatches(filter.Search, "i.customer_id", alsoMatching: "i.number")
        .WhereTestCustomersShown(filter.ShowTestCustomers == true || filter.CustomerId is not null || filter.SubscriptionId is not null, "i.customer_id")
        .WhereWithin("i.due_at", "due", ListText.StartOfDay(filter.DueFrom), ListText.EndOfDay(filter.DueTo))
        .WhereWithin("i.created_at", "created", ListText.StartOfDay(filter.CreatedFrom), ListText.EndOfDay(filter.CreatedTo))
        .WhereBetween("i.total", "total", filter.MinAmount, filter.MaxAmount)
        .WhereIf(filter.Currency is not null, "i.currency = @currency::char(3)", "currency", filter.Currency);
}

internal static class ListText
{
    public static string EscapeLike(string? text) => (text ?? string.Empty).Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
    public static DateTimeOffset? StartOfDay(DateOnly? day) => day is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null;
    public static DateTimeOffset? EndOfDay(DateOnly? day) => day is { } d ? new DateTimeOffset(d.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null;
}
