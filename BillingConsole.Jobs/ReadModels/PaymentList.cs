using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.ReadModels;

public sealed record PaymentListFilter
{
    [NamesOf(typeof(PaymentAttemptStatus))] public string? Status { get; set; }
    public string? DeclineCode { get; set; }
    [NamesOf(typeof(PaymentTrigger))] public string? Trigger { get; set; }
    /// <summary>Part of the customer's name or email.</summary>
    public string? Search { get; set; }
    public DateOnly? From { get; set; }
    public DateOnly? To { get; set; }
    /// <summary>The customers on a test clock are left out, as from the figures, unless this is true.</summary>
    public bool? ShowTestCustomers { get; set; }
}

public sealed record PaymentRow(Guid Id, Guid InvoiceId, string? InvoiceNumber, Guid CustomerId, string CustomerName, int AttemptNumber, string Status,
    string Trigger, decimal Amount, string Currency, string? DeclineCode, DateTimeOffset StartedAt, int? LatencyMs, bool OnTestClock);

public sealed class PaymentList(NpgsqlDataSource dataSource, IOptions<ListOptions> options)
{
    private static readonly Dictionary<string, string> Sorts = new()
    {
        ["customerName"] = "c.name", ["status"] = "a.status, a.started_at", ["amount"] = "a.amount", ["startedAt"] = "a.started_at",
        ["declineCode"] = "a.decline_code, a.started_at",
    };

    /// <summary>The columns the list sorts by, as the page and its URL name them.</summary>
    public static IReadOnlyCollection<string> SortKeys => Sorts.Keys;

    public Task<PageResult<PaymentRow>> PageAsync(PaymentListFilter filter, PageRequest request, CancellationToken ct) =>
        Query(filter).PageAsync<PaymentRow>(dataSource, request, ct);

    public IAsyncEnumerable<PaymentRow> StreamAsync(PaymentListFilter filter, string? sortBy, bool descending, CancellationToken ct) =>
        Query(filter).StreamAsync<PaymentRow>(dataSource, sortBy, descending, ct);

    private static readonly string BillingRunTrigger = PaymentTrigger.BillingRun.ToSnakeCase();

    private ListQuery Query(PaymentListFilter filter) =>
        new ListQuery(options.Value, 
            "a.id, a.invoice_id, i.number as invoice_number, a.customer_id, c.name as customer_name, a.attempt_number, a.status, a.trigger, " +
            "a.amount, a.currency, a.decline_code, a.started_at, a.latency_ms, c.test_clock_id is not null as on_test_clock",
            "payment_attempts a", ["join invoices i on i.id = a.invoice_id", "join customers c on c.id = a.customer_id"], Sorts, "a.started_at", "a.id")
        .WhereIf(filter.Status is not null, "a.status = @status", "status", filter.Status)
        .WhereIf(filter.DeclineCode is not null, "a.decline_code = @declineCode", "declineCode", filter.DeclineCode)
        // Billing runs make most attempts, and a walk along the list's order finds theirs at once. The other triggers are a
        // few of the rows after a run, so they have an index of their own that a run's attempts never enter; the literal lets
        // the planner use it whatever the parameter.
        .WhereIf(filter.Trigger is not null,
            filter.Trigger == BillingRunTrigger ? "a.trigger = @trigger" : $"a.trigger = @trigger and a.trigger <> '{BillingRunTrigger}'", "trigger", filter.Trigger)
        .WhereCustomerMatches(filter.Search, "a.customer_id")
        .WhereTestCustomersShown(filter.ShowTestCustomers, "a.customer_id")
        .WhereIf(filter.From is not null, "a.started_at >= @from", "from", ListText.StartOfDay(filter.From))
        .WhereIf(filter.To is not null, "a.started_at < @to", "to", ListText.EndOfDay(filter.To));
}
