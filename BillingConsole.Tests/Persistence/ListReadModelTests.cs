using BillingConsole.Configuration;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using CustomerRow = BillingConsole.ReadModels.CustomerRow;
using InvoiceRow = BillingConsole.ReadModels.InvoiceRow;
using SubscriptionRow = BillingConsole.ReadModels.SubscriptionRow;

namespace BillingConsole.Tests.Persistence;

/// <summary>
/// The console's lists over a demo installation, checking what their million-row shortcuts must not change: a search finds the
/// same rows whether the matching customers are looked up first or matched while reading in list order, the count leaves out
/// joins without changing it, and each sort reads in the order of its column.
/// </summary>
public sealed class ListReadModelTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly PageRequest FirstPage = new(0, 50, null, true);

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;

    public async ValueTask InitializeAsync()
    {
        (_database, _) = await DemoDatabases.CreateAsync("lists", DemoDatabases.Standard);
        _engine = EngineServices.Create(_database);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>A list as the console has it, or with every search taking the read-in-order way (no customer is looked up first).</summary>
    private T List<T>(bool matchWhileReading = false) where T : class =>
        ActivatorUtilities.CreateInstance<T>(_engine.Services,
            Options.Create(new ListOptions { SearchedCustomersCap = matchWhileReading ? 1 : new ListOptions().SearchedCustomersCap }));

    private async Task<string[]> SearchTermsAsync()
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        // The most frequent surname and email domain (many customers each), one customer's exact email, and an invoice number prefix.
        var surname = await connection.QuerySingleAsync<string>(
            "select split_part(name, ' ', 2) from customers where name like '% %' group by 1 order by count(*) desc, 1 limit 1");
        var domain = await connection.QuerySingleAsync<string>(
            "select split_part(email, '@', 2) from customers group by 1 order by count(*) desc, 1 limit 1");
        var email = await connection.QuerySingleAsync<string>(
            "select c.email from customers c where exists (select 1 from invoices i where i.customer_id = c.id) order by c.email limit 1");
        var number = await connection.QuerySingleAsync<string>("select left(number, length(number) - 2) from invoices where number is not null order by number limit 1");
        return [surname, domain, email.ToUpperInvariant(), number];
    }

    [Fact]
    public async Task A_search_finds_the_same_rows_whether_customers_are_looked_up_first_or_matched_while_reading()
    {
        foreach (var term in await SearchTermsAsync())
        {
            await SameRows<InvoiceList, InvoiceListFilter, InvoiceRow>(new() { Search = term }, (l, f, p) => l.PageAsync(f, p, Ct), r => r.Id, term);
            // A later page in another order: the rows found by the customers looked up are sorted and paged as the list's.
            await SameRows<InvoiceList, InvoiceListFilter, InvoiceRow>(new() { Search = term }, (l, f, p) => l.PageAsync(f, p, Ct), r => r.Id, term,
                new PageRequest(1, 5, "customerName", false));
            await SameRows<SubscriptionList, SubscriptionListFilter, SubscriptionRow>(new() { Search = term }, (l, f, p) => l.PageAsync(f, p, Ct), r => r.Id, term);
            await SameRows<CustomerList, CustomerListFilter, CustomerRow>(new() { Search = term }, (l, f, p) => l.PageAsync(f, p, Ct), r => r.Id, term);
            await SameRows<PaymentList, PaymentListFilter, PaymentRow>(new() { Search = term }, (l, f, p) => l.PageAsync(f, p, Ct), r => r.Id, term);
            await SameRows<DunningQueue, DunningQueueFilter, DunningCaseListRow>(new() { Search = term, Status = "recovered" },
                (l, f, p) => l.PageAsync(f, p, Ct), r => r.Id, term);
        }
    }

    [Fact]
    public async Task An_invoice_search_matches_the_number_the_customer_name_or_the_email_and_nothing_else()
    {
        var invoices = List<InvoiceList>();
        foreach (var term in await SearchTermsAsync())
        {
            await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
            var expected = (await connection.QueryAsync<Guid>(
                "select i.id from invoices i join customers c on c.id = i.customer_id " +
                "where strpos(lower(i.number), lower(@term)) > 0 or strpos(lower(c.name), lower(@term)) > 0 or strpos(lower(c.email), lower(@term)) > 0 " +
                "order by i.created_at desc, i.id desc limit 200", new { term })).ToList();
            var page = await invoices.PageAsync(new InvoiceListFilter { Search = term }, new PageRequest(0, 200, null, true), Ct);

            Assert.NotEmpty(expected);
            Assert.Equal(expected, page.Items.Select(r => r.Id));
        }
    }

    [Fact]
    public async Task A_range_of_totals_pages_the_invoices_in_it_in_the_lists_order()
    {
        var invoices = List<InvoiceList>();
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        // The default order and the due date read the range's rows from its index and sort them; the total walks its index.
        foreach (var (sortBy, orderBy) in new[] { ((string?)null, "i.created_at desc, i.id desc"), ("dueAt", "i.due_at, i.id"), ("total", "i.total, i.id") })
        {
            var expected = (await connection.QueryAsync<Guid>(
                "select i.id from invoices i join customers c on c.id = i.customer_id " +
                $"where i.total >= 20 and i.total <= 100 and c.test_clock_id is null order by {orderBy} limit 10 offset 10")).ToList();
            var page = await invoices.PageAsync(new InvoiceListFilter { MinAmount = 20, MaxAmount = 100 }, new PageRequest(1, 10, sortBy, sortBy is null), Ct);

            Assert.Equal(10, expected.Count);
            Assert.Equal(expected, page.Items.Select(r => r.Id));
            // The range is counted before its page is read; a page past its rows still tells how many there are.
            var inRange = await connection.ExecuteScalarAsync<int>(
                "select count(*) from invoices i join customers c on c.id = i.customer_id where i.total >= 20 and i.total <= 100 and c.test_clock_id is null");
            var pastTheEnd = await invoices.PageAsync(new InvoiceListFilter { MinAmount = 20, MaxAmount = 100 },
                new PageRequest(inRange / 10 + 1, 10, sortBy, sortBy is null), Ct);
            Assert.Empty(pastTheEnd.Items);
            Assert.Equal((Math.Min(inRange, ListQuery.CountCap), inRange > ListQuery.CountCap ? ListCount.Capped : ListCount.Exact),
                (page.TotalCount, page.Count));
            Assert.Equal((page.TotalCount, page.Count), (pastTheEnd.TotalCount, pastTheEnd.Count));
        }
    }

    private async Task SameRows<TList, TFilter, TRow>(TFilter filter, Func<TList, TFilter, PageRequest, Task<PageResult<TRow>>> page,
        Func<TRow, Guid> id, string term, PageRequest? request = null) where TList : class
    {
        var lookedUp = await page(List<TList>(), filter, request ?? FirstPage);
        var matched = await page(List<TList>(matchWhileReading: true), filter, request ?? FirstPage);

        Assert.True(lookedUp.Items.Select(id).SequenceEqual(matched.Items.Select(id)),
            $"{typeof(TList).Name} searched for '{term}': {lookedUp.Items.Count} rows with customers looked up first, {matched.Items.Count} matched while reading.");
        // Read in list order, a common search is not counted: "at least" what the page shows, unless the page was the last.
        Assert.Equal(ListCount.Exact, lookedUp.Count);
        if (matched.Count == ListCount.Exact) Assert.Equal(lookedUp.TotalCount, matched.TotalCount);
        else Assert.InRange(matched.TotalCount, matched.Items.Count, lookedUp.TotalCount);
    }

    [Fact]
    public async Task The_count_is_the_number_of_rows_the_list_holds()
    {
        var terms = await SearchTermsAsync();
        await SameCount<InvoiceList, InvoiceListFilter, InvoiceRow>(
            [new(), new() { Status = "open" }, new() { Currency = "EUR" }, new() { Search = terms[0] }, new() { MinAmount = 20, MaxAmount = 100 }],
            (l, f, p) => l.PageAsync(f, p, Ct), (l, f) => l.StreamAsync(f, null, true, Ct));
        await SameCount<SubscriptionList, SubscriptionListFilter, SubscriptionRow>(
            [new(), new() { Status = "canceled" }, new() { Plan = "team" }, new() { Search = terms[1] }],
            (l, f, p) => l.PageAsync(f, p, Ct), (l, f) => l.StreamAsync(f, null, true, Ct));
        await SameCount<PaymentList, PaymentListFilter, PaymentRow>([new(), new() { Status = "failed" }, new() { DeclineCode = "insufficient_funds" }],
            (l, f, p) => l.PageAsync(f, p, Ct), (l, f) => l.StreamAsync(f, null, true, Ct));
        await SameCount<DunningQueue, DunningQueueFilter, DunningCaseListRow>([new(), new() { Status = "exhausted" }, new() { Status = "exhausted", MinAmount = 50 }],
            (l, f, p) => l.PageAsync(f, p, Ct), (l, f) => l.StreamAsync(f, null, true, Ct));
        await SameCount<CustomerList, CustomerListFilter, CustomerRow>([new(), new() { Currency = "USD" }, new() { Search = terms[1] }],
            (l, f, p) => l.PageAsync(f, p, Ct), (l, f) => l.StreamAsync(f, null, true, Ct));
    }

    private async Task SameCount<TList, TFilter, TRow>(TFilter[] filters, Func<TList, TFilter, PageRequest, Task<PageResult<TRow>>> page,
        Func<TList, TFilter, IAsyncEnumerable<TRow>> stream) where TList : class
    {
        var list = List<TList>();
        foreach (var filter in filters)
        {
            var counted = await page(list, filter, new PageRequest(0, 1, null, true));
            var rows = await stream(list, filter).CountAsync(Ct);

            Assert.True(rows > 0, $"{typeof(TList).Name} with {filter} should hold rows in the demo data.");
            Assert.Equal((rows, ListCount.Exact), (counted.TotalCount, counted.Count));
        }
    }

    [Fact]
    public async Task Every_sort_by_an_amount_or_a_date_reads_in_that_order_both_ways()
    {
        await Ordered<InvoiceList, InvoiceListFilter, InvoiceRow>(new()
            {
                ["total"] = r => r.Total, ["amountDue"] = r => r.AmountDue, ["createdAt"] = r => r.CreatedAt.UtcTicks,
                ["dueAt"] = r => r.DueAt?.UtcTicks ?? long.MaxValue,
            },
            InvoiceList.SortKeys, (l, p) => l.PageAsync(new(), p, Ct));
        await Ordered<PaymentList, PaymentListFilter, PaymentRow>(new() { ["amount"] = r => r.Amount, ["startedAt"] = r => r.StartedAt.UtcTicks },
            PaymentList.SortKeys, (l, p) => l.PageAsync(new(), p, Ct));
        await Ordered<SubscriptionList, SubscriptionListFilter, SubscriptionRow>(
            new() { ["currentPeriodEnd"] = r => r.CurrentPeriodEnd.UtcTicks, ["createdAt"] = r => r.CreatedAt.UtcTicks },
            SubscriptionList.SortKeys, (l, p) => l.PageAsync(new(), p, Ct));
        await Ordered<CustomerList, CustomerListFilter, CustomerRow>(
            new() { ["creditBalance"] = r => r.CreditBalance, ["createdAt"] = r => r.CreatedAt.UtcTicks },
            CustomerList.SortKeys, (l, p) => l.PageAsync(new(), p, Ct));
    }

    private async Task Ordered<TList, TFilter, TRow>(Dictionary<string, Func<TRow, decimal>> keys, IReadOnlyCollection<string> sortKeys,
        Func<TList, PageRequest, Task<PageResult<TRow>>> page) where TList : class
    {
        var list = List<TList>();
        foreach (var (key, value) in keys)
        {
            Assert.Contains(key, sortKeys);
            foreach (var descending in new[] { false, true })
            {
                var first = await page(list, new PageRequest(0, 50, key, descending));
                var second = await page(list, new PageRequest(1, 50, key, descending));
                var values = first.Items.Concat(second.Items).Select(value).ToList();

                Assert.Equal(100, values.Count);
                Assert.Equal(descending ? values.OrderDescending() : values.Order(), values);
                Assert.Empty(first.Items.Intersect(second.Items));
            }
        }
    }
}
