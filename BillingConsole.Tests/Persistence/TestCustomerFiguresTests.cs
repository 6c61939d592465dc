using System.Text.Json;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.TestClocks;
using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using CustomerRow = BillingConsole.ReadModels.CustomerRow;
using InvoiceRow = BillingConsole.ReadModels.InvoiceRow;
using SubscriptionRow = BillingConsole.ReadModels.SubscriptionRow;

namespace BillingConsole.Tests.Persistence;

/// <summary>
/// A test clock's customer changes no figure of the console: the dashboard, MRR and its bridge, cohorts, dunning recovery,
/// the dunning queue's depth, deferred revenue, the trial balance and journal, and the lists the figures link to read the
/// same with it as without it, before the analytics folds run and after. The lists show its rows, with their Test chip's
/// flag, only when asked to.
/// </summary>
public sealed class TestCustomerFiguresTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("admin@example.test", "admin");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;

    public async ValueTask InitializeAsync()
    {
        (_database, _) = await DemoDatabases.CreateAsync("test_customer_figures", DemoDatabases.Standard);
        _engine = EngineServices.Create(_database);
        _engine.Clock.Advance(TimeSpan.FromHours(15));
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_test_customer_with_invoices_payments_and_a_dunning_case_changes_no_figure_and_is_listed_only_when_asked()
    {
        var now = _engine.Clock.GetUtcNow();
        await FoldAnalyticsAsync();
        var before = await FiguresAsync();

        // Well inside every window the figures count: signed up 5 days ago, its card declined, its case open since.
        Guid priceId;
        await using (var db = _database.NewContext())
            priceId = await db.Prices.AsNoTracking().Where(p => p.Active && p.Currency == "USD").OrderBy(p => p.Id).Select(p => p.Id).FirstAsync(Ct);
        var clockId = await _engine.InScopeAsync<TestClockCommands, Guid>(c => c.CreateAsync("Figures", now.AddDays(-5), Admin, Ct));
        var customerId = await _engine.InScopeAsync<TestClockCommands, Guid>(c => c.AddCustomerAsync(clockId,
            new AddTestCustomer("Rehearsal Customer", "rehearsal@example.test", "USD", priceId, "pm_insufficient_funds_"), Admin, Ct));
        await _engine.InScopeAsync<TestClockCommands, TestClockAdvance>(c => c.AdvanceAsync(clockId, now.AddHours(-1), Admin, "Rehearse", Ct));
        await using (var db = _database.NewContext())
        {
            Assert.True(await db.Invoices.AnyAsync(i => i.CustomerId == customerId && i.Status == InvoiceStatus.Open, Ct));
            Assert.True(await db.PaymentAttempts.AnyAsync(a => a.CustomerId == customerId && a.Status == PaymentAttemptStatus.Failed, Ct));
            Assert.True(await db.DunningCases.AnyAsync(d => d.CustomerId == customerId && d.Status == DunningStatus.RetryPending, Ct));
            Assert.True(await db.LedgerEntries.AnyAsync(e => e.CustomerId == customerId, Ct));
        }

        // Read live (the folds' queues hold whatever the rehearsal queued), then folded.
        Assert.Equal(before, await FiguresAsync());
        await FoldAnalyticsAsync();
        Assert.Equal(before, await FiguresAsync());

        await AssertListedOnlyWhenAskedAsync<CustomerList, CustomerListFilter, CustomerRow>(
            (l, f) => l.StreamAsync(f, null, true, Ct), f => f.ShowTestCustomers = true, r => r.Id == customerId, r => r.OnTestClock);
        await AssertListedOnlyWhenAskedAsync<SubscriptionList, SubscriptionListFilter, SubscriptionRow>(
            (l, f) => l.StreamAsync(f, null, true, Ct), f => f.ShowTestCustomers = true, r => r.CustomerId == customerId, r => r.OnTestClock);
        await AssertListedOnlyWhenAskedAsync<InvoiceList, InvoiceListFilter, InvoiceRow>(
            (l, f) => l.StreamAsync(f, null, true, Ct), f => f.ShowTestCustomers = true, r => r.CustomerId == customerId, r => r.OnTestClock);
        await AssertListedOnlyWhenAskedAsync<PaymentList, PaymentListFilter, PaymentRow>(
            (l, f) => l.StreamAsync(f, null, true, Ct), f => f.ShowTestCustomers = true, r => r.CustomerId == customerId, r => r.OnTestClock);
        await AssertListedOnlyWhenAskedAsync<DunningQueue, DunningQueueFilter, DunningCaseListRow>(
            (l, f) => l.StreamAsync(f, null, true, Ct), f => f.ShowTestCustomers = true, r => r.CustomerId == customerId, r => r.OnTestClock);
        // A test customer's own drill-downs (its invoices, from its page) list its rows without the switch.
        var ownInvoices = await ToListAsync(_engine.Get<InvoiceList>().StreamAsync(new InvoiceListFilter { CustomerId = customerId }, null, true, Ct));
        Assert.NotEmpty(ownInvoices);
        Assert.All(ownInvoices, r => Assert.True(r.OnTestClock));
    }

    /// <summary>The list without the switch has none of the test customer's rows; with it, its rows, flagged, beside the same others.</summary>
    private async Task AssertListedOnlyWhenAskedAsync<TList, TFilter, TRow>(Func<TList, TFilter, IAsyncEnumerable<TRow>> stream, Action<TFilter> showTestCustomers,
        Func<TRow, bool> ofTestCustomer, Func<TRow, bool> onTestClock) where TList : notnull where TFilter : new()
    {
        var list = _engine.Get<TList>();
        var hidden = await ToListAsync(stream(list, new TFilter()));
        var filter = new TFilter();
        showTestCustomers(filter);
        var shown = await ToListAsync(stream(list, filter));

        Assert.DoesNotContain(hidden, row => ofTestCustomer(row));
        Assert.All(hidden, row => Assert.False(onTestClock(row)));
        var testRows = shown.Where(ofTestCustomer).ToList();
        Assert.NotEmpty(testRows);
        Assert.All(testRows, row => Assert.True(onTestClock(row)));
        Assert.Equal(hidden, shown.Where(row => !ofTestCustomer(row)));
    }

    private async Task FoldAnalyticsAsync()
    {
        await _engine.Get<MrrRecorder>().RecordAsync(_engine.Clock.GetUtcNow(), Ct);
        await _engine.Get<RevenueRecognitionRecorder>().FoldAsync(Ct);
        await _engine.Get<DunningCaseFactsRecorder>().FoldAsync(Ct);
    }

    /// <summary>Every figure the dashboard, Analytics and Journal pages show, and the sizes of the lists they link to, as one text.</summary>
    private async Task<string> FiguresAsync()
    {
        var now = _engine.Clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var month = new DateOnly(today.Year, today.Month, 1);
        var period = new JournalPeriod(month.AddMonths(-2), today);
        var cohorts = _engine.Get<CohortQueries>();
        var figures = new Dictionary<string, object>
        {
            ["dashboard"] = await _engine.InScopeAsync<DashboardRefresher, DashboardFigures>(r => r.RefreshAsync(Ct)),
            ["mrrBridge"] = await _engine.Get<MrrBridgeQueries>().MonthAsync(month, Ct),
            ["mrrBridgeLastMonth"] = await _engine.Get<MrrBridgeQueries>().MonthAsync(month.AddMonths(-1), Ct),
            ["cohorts"] = await Task.WhenAll((await cohorts.CurrenciesAsync(Ct)).Select(c => cohorts.TableAsync(c, month, 12, Ct))),
            ["recovery"] = await _engine.Get<DunningStatistics>().ReportAsync(new StatisticsPeriod(now.AddDays(-90), now), Ct),
            ["queue"] = await _engine.Get<DunningStatistics>().QueueAsync(Ct),
            ["deferredRevenue"] = await _engine.Get<RevenueRecognitionQueries>().PeriodAsync(period, Ct),
            ["trialBalance"] = await _engine.Get<JournalQueries>().TrialBalanceAsync(period, Ct),
            ["journalLines"] = (await ToListAsync(_engine.Get<JournalQueries>().StreamAsync(period, Ct))).Count,
            ["customers"] = (await ToListAsync(_engine.Get<CustomerList>().StreamAsync(new CustomerListFilter(), null, true, Ct))).Count,
            ["subscriptions"] = (await ToListAsync(_engine.Get<SubscriptionList>().StreamAsync(new SubscriptionListFilter(), null, true, Ct))).Count,
            ["invoices"] = (await ToListAsync(_engine.Get<InvoiceList>().StreamAsync(new InvoiceListFilter(), null, true, Ct))).Count,
            ["payments"] = (await ToListAsync(_engine.Get<PaymentList>().StreamAsync(new PaymentListFilter(), null, true, Ct))).Count,
            ["dunningQueue"] = (await ToListAsync(_engine.Get<DunningQueue>().StreamAsync(new DunningQueueFilter(), null, true, Ct))).Count,
        };
        return JsonSerializer.Serialize(figures, new JsonSerializerOptions { WriteIndented = true });
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> rows)
    {
        var list = new List<T>();
        await foreach (var row in rows) list.Add(row);
        return list;
    }
}
