using BillingConsole.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.ReadModels;

public sealed record CustomerListFilter
{
    /// <summary>Part of the name or email.</summary>
    public string? Search { get; set; }
    public string? Currency { get; set; }
    public DateOnly? CreatedFrom { get; set; }
    /// <summary>The customers on a test clock are left out, as from the figures, unless this is true.</summary>
    public bool? ShowTestCustomers { get; set; }
}

public sealed record CustomerRow(Guid Id, string Name, string Email, string Currency, decimal CreditBalance, DateTimeOffset CreatedAt, string AddressCountry, bool OnTestClock);

public sealed class CustomerList(NpgsqlDataSource dataSource, IOptions<ListOptions> options)
{
    private static readonly Dictionary<string, string> Sorts = new()
    {
        ["name"] = "c.name", ["email"] = "c.email", ["createdAt"] = "c.created_at", ["creditBalance"] = "c.credit_balance",
    };

    /// <summary>The columns the list sorts by, as the page and its URL name them.</summary>
    public static IReadOnlyCollection<string> SortKeys => Sorts.Keys;

    public Task<PageResult<CustomerRow>> PageAsync(CustomerListFilter filter, PageRequest request, CancellationToken ct) =>
        Query(filter).PageAsync<CustomerRow>(dataSource, request, ct);

    public IAsyncEnumerable<CustomerRow> StreamAsync(CustomerListFilter filter, string? sortBy, bool descending, CancellationToken ct) =>
        Query(filter).StreamAsync<CustomerRow>(dataSource, sortBy, descending, ct);

    private ListQuery Query(CustomerListFilter filter) =>
        new ListQuery(options.Value, "c.id, c.name, c.email, c.currency, c.credit_balance, c.created_at, c.address_country, c.test_clock_id is not null as on_test_clock", "customers c", [], Sorts, "c.created_at", "c.id")
        .WhereCustomerMatches(filter.Search, "c.id")
        .WhereTestCustomersShown(filter.ShowTestCustomers, "c.id")
        .WhereIf(filter.Currency is not null, "c.currency = @currency::char(3)", "currency", filter.Currency)
        .WhereIf(filter.CreatedFrom is not null, "c.created_at >= @createdFrom", "createdFrom", ListText.StartOfDay(filter.CreatedFrom));
}
