using BillingConsole.Configuration;
using BillingConsole.Domain.Dunning;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.ReadModels;

public sealed record DunningQueueFilter
{
    /// <summary>Empty means every open case (retry pending, retrying, awaiting a payment method).</summary>
    [NamesOf(typeof(DunningStatus))] public string? Status { get; set; }
    public string? DeclineCode { get; set; }
    public string? Search { get; set; }
    public DateOnly? OpenedFrom { get; set; }
    public decimal? MinAmount { get; set; }
    /// <summary>The customers on a test clock are left out, as from the figures, unless this is true.</summary>
    public bool? ShowTestCustomers { get; set; }
}

public sealed record DunningCaseListRow(Guid Id, Guid InvoiceId, string? InvoiceNumber, Guid CustomerId, string CustomerName, string Status,
    decimal Amount, string Currency, DateTimeOffset OpenedAt, int RetriesMade, string? LastDeclineCode, DateTimeOffset? NextAttemptAt,
    double? NextAttemptProbability, string? NextAttemptReason, int EscalationStep, bool DunningPaused, bool OnTestClock);

public sealed class DunningQueue(NpgsqlDataSource dataSource, IOptions<ListOptions> options)
{
    private static readonly Dictionary<string, string> Sorts = new()
    {
        ["customerName"] = "c.name", ["status"] = "d.status", ["amount"] = "d.amount", ["openedAt"] = "d.opened_at",
        ["nextAttemptAt"] = "d.next_attempt_at", ["retriesMade"] = "d.retries_made", ["nextAttemptProbability"] = "d.next_attempt_probability",
    };

    /// <summary>The columns the list sorts by, as the page and its URL name them.</summary>
    public static IReadOnlyCollection<string> SortKeys => Sorts.Keys;

    public Task<PageResult<DunningCaseListRow>> PageAsync(DunningQueueFilter filter, PageRequest request, CancellationToken ct) =>
        Query(filter).PageAsync<DunningCaseListRow>(dataSource, request, ct);

    public IAsyncEnumerable<DunningCaseListRow> StreamAsync(DunningQueueFilter filter, string? sortBy, bool descending, CancellationToken ct) =>
        Query(filter).StreamAsync<DunningCaseListRow>(dataSource, sortBy, descending, ct);

    private ListQuery Query(DunningQueueFilter filter) =>
        new ListQuery(options.Value, 
            "d.id, d.invoice_id, i.number as invoice_number, d.customer_id, c.name as customer_name, d.status, d.amount, d.currency, d.opened_at, " +
            "d.retries_made, d.last_decline_code, d.next_attempt_at, d.next_attempt_probability, d.next_attempt_reason, d.escalation_step, c.dunning_paused, c.test_clock_id is not null as on_test_clock",
            "dunning_cases d", ["join invoices i on i.id = d.invoice_id", "join customers c on c.id = d.customer_id"], Sorts, "d.opened_at", "d.id")
        .Where(filter.Status is null ? "d.status in ('retry_pending', 'retrying', 'awaiting_payment_method')" : "d.status = @status", "status", filter.Status)
        .WhereIf(filter.DeclineCode is not null, "d.last_decline_code = @declineCode", "declineCode", filter.DeclineCode)
        .WhereCustomerMatches(filter.Search, "d.customer_id")
        .WhereTestCustomersShown(filter.ShowTestCustomers, "d.customer_id")
        .WhereWithin("d.opened_at", "opened", ListText.StartOfDay(filter.OpenedFrom), null)
        .WhereBetween("d.amount", "amount", filter.MinAmount, null);
}
