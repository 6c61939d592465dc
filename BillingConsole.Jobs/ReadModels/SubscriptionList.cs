using BillingConsole.Configuration;
using BillingConsole.Domain.Subscriptions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.ReadModels;

public sealed record SubscriptionListFilter
{
    [NamesOf(typeof(SubscriptionStatus))] public string? Status { get; set; }
    public string? Plan { get; set; }
    public Guid? CustomerId { get; set; }
    /// <summary>Part of the customer's name or email.</summary>
    public string? Search { get; set; }
    public DateOnly? CreatedFrom { get; set; }
    public DateOnly? CreatedTo { get; set; }
    public DateOnly? CanceledFrom { get; set; }
    /// <summary>The customers on a test clock are left out, as from the figures, unless this is true.</summary>
    public bool? ShowTestCustomers { get; set; }
}

public sealed record SubscriptionRow(Guid Id, Guid CustomerId, string CustomerName, string CustomerEmail, string PlanCode, string PlanName, string Status,
    int Quantity, string Currency, decimal UnitAmount, string Interval, DateTimeOffset CurrentPeriodEnd, DateTimeOffset CreatedAt,
    DateTimeOffset? CanceledAt, bool CancelAtPeriodEnd, bool OnTestClock);

public sealed class SubscriptionList(NpgsqlDataSource dataSource, IOptions<ListOptions> options)
{
    private static readonly Dictionary<string, string> Sorts = new()
    {
        ["customerName"] = "c.name", ["status"] = "s.status, s.created_at", ["currentPeriodEnd"] = "s.current_period_end",
        ["createdAt"] = "s.created_at",
    };

    /// <summary>The columns the list sorts by, as the page and its URL name them.</summary>
    public static IReadOnlyCollection<string> SortKeys => Sorts.Keys;

    public Task<PageResult<SubscriptionRow>> PageAsync(SubscriptionListFilter filter, PageRequest request, CancellationToken ct) =>
        Query(filter).PageAsync<SubscriptionRow>(dataSource, request, ct);

    public IAsyncEnumerable<SubscriptionRow> StreamAsync(SubscriptionListFilter filter, string? sortBy, bool descending, CancellationToken ct) =>
        Query(filter).StreamAsync<SubscriptionRow>(dataSource, sortBy, descending, ct);

    private ListQuery Query(SubscriptionListFilter filter) =>
        new ListQuery(options.Value, 
            "s.id, s.customer_id, c.name as customer_name, c.email as customer_email, pl.code as plan_code, pl.name as plan_name, s.status, s.quantity, " +
            "p.currency, p.amount as unit_amount, p.interval, s.current_period_end, s.created_at, s.canceled_at, s.cancel_at_period_end, c.test_clock_id is not null as on_test_clock",
            "subscriptions s", ["join customers c on c.id = s.customer_id", "join prices p on p.id = s.price_id", "join plans pl on pl.id = p.plan_id"],
            Sorts, "s.created_at", "s.id")
        .WhereIf(filter.Status is not null, "s.status = @status", "status", filter.Status)
        .WhereIf(filter.Plan is not null, "pl.code = @plan", "plan", filter.Plan)
        .WhereIf(filter.CustomerId is not null, "s.customer_id = @customerId", "customerId", filter.CustomerId)
        .WhereCustomerMatches(filter.Search, "s.customer_id")
        .WhereTestCustomersShown(filter.ShowTestCustomers == true || filter.CustomerId is not null, "s.customer_id")
        .WhereIf(filter.CreatedFrom is not null, "s.created_at >= @createdFrom", "createdFrom", ListText.StartOfDay(filter.CreatedFrom))
        .WhereIf(filter.CreatedTo is not null, "s.created_at < @createdTo", "createdTo", ListText.EndOfDay(filter.CreatedTo))
        .WhereIf(filter.CanceledFrom is not null, "s.canceled_at >= @canceledFrom", "canceledFrom", ListText.StartOfDay(filter.CanceledFrom));
}
