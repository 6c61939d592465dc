using BillingConsole.Components.Pages.Dashboard;
using BillingConsole.Components.Shared;
using BillingConsole.Configuration;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using InvoiceRow = BillingConsole.ReadModels.InvoiceRow;
using SubscriptionRow = BillingConsole.ReadModels.SubscriptionRow;

namespace BillingConsole.Tests.Persistence;

/// <summary>
/// Every dashboard figure that links to a list lands on exactly the rows it counts: the list, read through its own filter
/// parser from the link's query string, has as many rows as the figure says and, where the figure shows amounts, the same
/// sum per currency. The data has several currencies, open invoices due on each side of every aging edge and failed
/// payments on each side of the window's first day, with the clock in the middle of a UTC day.
/// </summary>
public sealed class DashboardDrillDownTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;

    public async ValueTask InitializeAsync()
    {
        (_database, _) = await DemoDatabases.CreateAsync("dashboard_links", DemoDatabases.Standard);
        _engine = EngineServices.Create(_database);
        // Mid-afternoon: a count by elapsed hours and a list by calendar days would part here.
        _engine.Clock.Advance(TimeSpan.FromHours(15));
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Each_linked_figure_counts_and_sums_exactly_the_rows_its_link_lists()
    {
        var today = DateOnly.FromDateTime(_engine.Clock.GetUtcNow().UtcDateTime);
        var edges = await PutOpenInvoicesOnAgingEdgesAsync(today);
        var (inWindow, beforeWindow) = await PutFailedPaymentsOnWindowEdgesAsync(today.AddDays(1 - DashboardFigures.DeclineWindowDays));
        var figures = await _engine.InScopeAsync<DashboardRefresher, DashboardFigures>(refresher => refresher.RefreshAsync(Ct));
        Assert.Equal(today, figures.Today);

        await AssertListsAsync<SubscriptionList, SubscriptionListFilter, SubscriptionRow>(
            DashboardLinks.Subscriptions("active"), figures.ActiveSubscriptions, (l, f) => l.StreamAsync(f, null, true, Ct));
        await AssertListsAsync<SubscriptionList, SubscriptionListFilter, SubscriptionRow>(
            DashboardLinks.Subscriptions("trialing"), figures.TrialingSubscriptions, (l, f) => l.StreamAsync(f, null, true, Ct));
        await AssertListsAsync<SubscriptionList, SubscriptionListFilter, SubscriptionRow>(
            DashboardLinks.Subscriptions("past_due"), figures.PastDueSubscriptions, (l, f) => l.StreamAsync(f, null, true, Ct));
        await AssertListsAsync<SubscriptionList, SubscriptionListFilter, SubscriptionRow>(
            DashboardLinks.NewThisMonth(figures), figures.NewThisMonth, (l, f) => l.StreamAsync(f, null, true, Ct));
        await AssertListsAsync<DunningQueue, DunningQueueFilter, DunningCaseListRow>(
            DashboardLinks.DunningQueue, figures.DunningQueueDepth, (l, f) => l.StreamAsync(f, null, true, Ct));

        Assert.Contains(figures.InvoicesByStatus, s => s.Amounts.Count > 1);
        foreach (var status in figures.InvoicesByStatus)
        {
            var rows = await AssertListsAsync<InvoiceList, InvoiceListFilter, InvoiceRow>(
                DashboardLinks.Invoices(status), status.Count, (l, f) => l.StreamAsync(f, null, true, Ct));
            AssertSums(status.Amounts, rows, r => r.Currency, r => status.Status == "open" ? r.AmountDue : r.Total, status.Status);
        }

        Assert.True(figures.ReceivablesAging.Where(b => b.Count > 0).Select(b => b.Currency).Distinct().Count() > 1,
            "Open invoices in several currencies are aged.");
        var listed = new Dictionary<Guid, AgingBucket>();
        foreach (var bucket in figures.ReceivablesAging)
        {
            var rows = await AssertListsAsync<InvoiceList, InvoiceListFilter, InvoiceRow>(
                DashboardLinks.Invoices(figures, bucket), bucket.Count, (l, f) => l.StreamAsync(f, null, true, Ct));
            Assert.Equal(bucket.Amount, rows.Sum(r => r.AmountDue));
            Assert.All(rows, r => Assert.Equal(bucket.Currency, r.Currency));
            foreach (var row in rows) Assert.True(listed.TryAdd(row.Id, bucket), $"Invoice {row.Id} is listed under two buckets.");
        }
        Assert.Equal(figures.InvoicesByStatus.Single(s => s.Status == "open").Count, listed.Count);
        foreach (var (invoiceId, label) in edges)
            Assert.Equal(label, listed[invoiceId].Label);

        Assert.Contains(figures.FailedPaymentsByDeclineCode, d => d.Amounts.Count > 1);
        var failedListed = new HashSet<Guid>();
        foreach (var decline in figures.FailedPaymentsByDeclineCode)
        {
            var rows = await AssertListsAsync<PaymentList, PaymentListFilter, PaymentRow>(
                DashboardLinks.FailedPayments(figures, decline), decline.Count, (l, f) => l.StreamAsync(f, null, true, Ct));
            AssertSums(decline.Amounts, rows, r => r.Currency, r => r.Amount, decline.DeclineCode);
            failedListed.UnionWith(rows.Select(r => r.Id));
        }
        Assert.Contains(inWindow, failedListed);
        Assert.DoesNotContain(beforeWindow, failedListed);
    }

    /// <summary>
    /// Reads the list the link points at the way its page does (the link's query string through the lists' filter parser)
    /// and checks it has <paramref name="count"/> rows.
    /// </summary>
    private async Task<List<TRow>> AssertListsAsync<TList, TFilter, TRow>(string href, int count, Func<TList, TFilter, IAsyncEnumerable<TRow>> read)
        where TList : class where TFilter : new()
    {
        var (filter, errors) = ListFilters.Parse<TFilter>(QueryHelpers.ParseQuery(new Uri(new Uri("http://console/"), href).Query));
        Assert.Empty(errors);
        var list = ActivatorUtilities.CreateInstance<TList>(_engine.Services, Options.Create(new ListOptions()));
        var rows = new List<TRow>();
        await foreach (var row in read(list, filter)) rows.Add(row);
        Assert.True(count == rows.Count, $"{href}: the dashboard counts {count}, the list has {rows.Count} rows.");
        return rows;
    }

    private static void AssertSums<TRow>(IReadOnlyList<CurrencyAmount> shown, IEnumerable<TRow> rows, Func<TRow, string> currency,
        Func<TRow, decimal> amount, string figure)
    {
        var listed = rows.GroupBy(currency).ToDictionary(g => g.Key, g => g.Sum(amount));
        Assert.True(listed.OrderBy(a => a.Key, StringComparer.Ordinal).SequenceEqual(
                shown.OrderBy(a => a.Currency, StringComparer.Ordinal).Select(a => KeyValuePair.Create(a.Currency, a.Amount))),
            $"{figure}: the dashboard shows {AmountsText.PerCurrency(shown.ToDictionary(a => a.Currency, a => a.Amount))}, " +
            $"the list sums to {AmountsText.PerCurrency(listed)}.");
    }

    /// <summary>
    /// Moves open invoices of each currency onto the first and last moment of the buckets' edge days; returns each
    /// invoice with the bucket it belongs in.
    /// </summary>
    private async Task<List<(Guid InvoiceId, string Bucket)>> PutOpenInvoicesOnAgingEdgesAsync(DateOnly today)
    {
        var start = (int daysAgo) => new DateTimeOffset(today.AddDays(-daysAgo).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var lastTick = (int daysAgo) => start(daysAgo - 1).AddTicks(-10);
        var edges = new (DateTimeOffset DueAt, string Bucket)[]
        {
            (start(-1), "Not yet due"), (lastTick(0), "0–30 days"), (start(0), "0–30 days"),
            (start(30), "0–30 days"), (lastTick(31), "31–60 days"), (start(60), "31–60 days"), (lastTick(61), "61–90 days"),
            (start(90), "61–90 days"), (lastTick(91), "90+ days"),
        };
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        var currencies = (await connection.QueryAsync<string>("select distinct currency from invoices where status = 'open' order by 1")).ToList();
        Assert.True(currencies.Count > 1, "The demo data has open invoices in several currencies.");
        var moved = new List<(Guid, string)>();
        foreach (var currency in currencies)
        {
            var invoices = (await connection.QueryAsync<Guid>(
                "select id from invoices where status = 'open' and currency = @currency order by id limit @count",
                new { currency, count = edges.Length })).ToList();
            foreach (var (invoiceId, edge) in invoices.Zip(edges))
            {
                await connection.ExecuteAsync("update invoices set due_at = @dueAt where id = @invoiceId", new { invoiceId, dueAt = edge.DueAt });
                moved.Add((invoiceId, edge.Bucket));
            }
        }
        return moved;
    }

    /// <summary>Moves one failed payment to the window's first moment and another to just before it.</summary>
    private async Task<(Guid InWindow, Guid BeforeWindow)> PutFailedPaymentsOnWindowEdgesAsync(DateOnly windowStart)
    {
        var first = new DateTimeOffset(windowStart.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        var failed = (await connection.QueryAsync<Guid>(
            "select id from payment_attempts where status = 'failed' and decline_code is not null order by id limit 2")).ToList();
        Assert.Equal(2, failed.Count);
        await connection.ExecuteAsync("update payment_attempts set started_at = @at where id = @id", new { id = failed[0], at = first });
        await connection.ExecuteAsync("update payment_attempts set started_at = @at where id = @id", new { id = failed[1], at = first.AddTicks(-10) });
        return (failed[0], failed[1]);
    }
}
