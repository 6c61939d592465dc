using System.Diagnostics;
using System.Globalization;
using BillingConsole.Components.Shared;
using BillingConsole.Domain.Billing;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Commands;

/// <summary>
/// benchmark-lists [--repeat N] [--under-load N]: times what the console's pages ask the database for, against the configured
/// database (fill it first, e.g. ./run.sh --reset --scale 1000000): each list's first page, every sort both ways, every filter,
/// a deep page, the dashboard and the Analytics page. Prints the median (p50), p95 and slowest of N timings per case in milliseconds, then the cases over the
/// target. With --under-load N it then adds N due subscriptions, starts a billing run through the engine (this process serves
/// the billing queue, as a node of the console does) and times every case again while the run is going, beside the quiet figures.
/// </summary>
public static class ListBenchmark
{
    public const string Name = "benchmark-lists";
    private const double TargetMs = 150;
    private const double LoadedTargetMs = 300;
    private const int PageSize = 50;

    private sealed record Case(string List, string What, Func<IServiceProvider, CancellationToken, Task> Run);

    private sealed record Timing(Case Case, double Median, double P95, double Max);

    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchmarkReport.PositiveCount(args, "--repeat", 5) is not { } repeat || BenchmarkReport.PositiveCount(args, "--under-load", 0) is not { } dueForLoad)
            return 2;

        using var host = dueForLoad > 0 ? BillingBenchmark.BillingWorkers(args) : EngineOnly(args);
        var services = host.Services;
        await services.GetRequiredService<DatabaseStartup>().PrepareAsync(null, CancellationToken.None);
        var clock = services.GetRequiredService<TimeProvider>();
        var cases = Cases(DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime)).ToList();

        Console.WriteLine($"{"list",-14} {"case",-58} {"p50 ms",10} {"p95 ms",8} {"max ms",8}");
        var quiet = new List<Timing>();
        foreach (var benchmarkCase in cases)
        {
            var timing = await TimeAsync(services, benchmarkCase, repeat);
            quiet.Add(timing);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{benchmarkCase.List,-14} {benchmarkCase.What,-58} {timing.Median,10:F1} {timing.P95,8:F1} {timing.Max,8:F1}"));
        }
        var slow = quiet.Where(r => r.Median > TargetMs).ToList();
        var slowest = quiet.MaxBy(r => r.Median)!;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{quiet.Count} cases, median of {repeat}: {slow.Count} over {TargetMs} ms; slowest {slowest.Median:F1} ms ({slowest.Case.List}: {slowest.Case.What})"));
        return dueForLoad > 0 ? await TimeUnderLoadAsync(host, quiet, repeat, dueForLoad) : 0;
    }

    private static IHost EngineOnly(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" });
        builder.AddBillingEngine();
        return builder.Build();
    }

    /// <summary>One warm-up (plans cached, pages in memory, as a console in use has them), then <paramref name="repeat"/> timings.</summary>
    private static async Task<Timing> TimeAsync(IServiceProvider services, Case benchmarkCase, int repeat)
    {
        await benchmarkCase.Run(services, CancellationToken.None);
        var timings = new List<double>(repeat);
        for (var i = 0; i < repeat; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await benchmarkCase.Run(services, CancellationToken.None);
            timings.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        timings.Sort();
        return new Timing(benchmarkCase, timings[timings.Count / 2], BenchmarkReport.Percentile(timings, 0.95), timings[^1]);
    }

    /// <summary>
    /// The same cases again while a billing run over <paramref name="due"/> new due subscriptions (and whatever else is due) is
    /// going; a case timed after the run ended is marked and left out of the verdict.
    /// </summary>
    private static async Task<int> TimeUnderLoadAsync(IHost host, IReadOnlyList<Timing> quiet, int repeat, int due)
    {
        var services = host.Services;
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        await BenchmarkPopulation.CreateDueSubscriptionsAsync(dataSource, due, services.GetRequiredService<TimeProvider>().GetUtcNow(),
            BenchmarkPopulation.BillingRunCard, CancellationToken.None);
        await host.StartAsync();
        var runClock = Stopwatch.StartNew();
        Guid runId;
        await using (var scope = services.CreateAsyncScope())
            runId = await scope.ServiceProvider.GetRequiredService<BillingRunService>().StartAsync(Actor.System, BillingRunTriggers.Manual);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""

            Under load: billing run {runId} started over {due:N0} new due subscriptions and whatever else was due; load average (1 min) {BenchmarkReport.LoadAverage()}
            {"list",-14} {"case",-58} {"quiet p95",10} {"loaded median",14} {"loaded p95",11}
            """));

        var loaded = new List<Timing>();
        var afterTheRun = 0;
        foreach (var timingQuiet in quiet)
        {
            var timing = await TimeAsync(services, timingQuiet.Case, repeat);
            var going = await RunStatusAsync(services, runId) == BillingRunStatus.Running;
            if (going) loaded.Add(timing);
            else afterTheRun++;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{timing.Case.List,-14} {timing.Case.What,-58} {timingQuiet.P95,10:F1} {timing.Median,14:F1} {timing.P95,11:F1}{(going ? "" : "  (the run had ended)")}"));
        }
        var over = loaded.Count(t => t.P95 > LoadedTargetMs);
        var worst = loaded.MaxBy(t => t.P95);
        var slowest = worst is null ? "" : string.Create(CultureInfo.InvariantCulture, $"; slowest {worst.P95:F1} ms ({worst.Case.List}: {worst.Case.What})");
        BillingRun run;
        await using (var scope = services.CreateAsyncScope())
            run = await scope.ServiceProvider.GetRequiredService<BillingDbContext>().BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
        // Not waited for: a run whose charges wait on an open circuit breaker can take far longer than the pass. Its chunks stay
        // queued and finish on the next node that serves the billing queue.
        await host.StopAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            {loaded.Count} cases timed while the run was going ({afterTheRun} after it ended), p95 of {repeat}: {over} over {LoadedTargetMs} ms{slowest}
            after {runClock.Elapsed.TotalSeconds:F0} s the run was {run.Status.ToString().ToLowerInvariant()}: {run.InvoicedCount:N0} of {run.DueCount:N0} invoiced, {run.ChargedCount + run.FailedCount:N0} charged; load average (1 min) {BenchmarkReport.LoadAverage()}
            """));
        return 0;
    }

    private static async Task<BillingRunStatus> RunStatusAsync(IServiceProvider services, Guid runId)
    {
        await using var scope = services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<BillingDbContext>().BillingRuns.AsNoTracking()
            .Where(r => r.Id == runId).Select(r => r.Status).SingleAsync();
    }

    private static IEnumerable<Case> Cases(DateOnly today)
    {
        var monthAgo = today.AddDays(-30).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var todayText = today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return
        [
            .. ListCases<CustomerListFilter, CustomerRow>("customers", CustomerList.SortKeys,
                ["search=smith", "search=example.com", "currency=EUR", $"createdFrom={monthAgo}"],
                (s, f, p, ct) => s.GetRequiredService<CustomerList>().PageAsync(f, p, ct)),
            .. ListCases<SubscriptionListFilter, SubscriptionRow>("subscriptions", SubscriptionList.SortKeys,
                ["status=active", "status=past_due", "status=canceled", "search=smith", $"createdFrom={monthAgo}&createdTo={todayText}",
                 $"canceledFrom={monthAgo}"],
                (s, f, p, ct) => s.GetRequiredService<SubscriptionList>().PageAsync(f, p, ct)),
            .. ListCases<InvoiceListFilter, InvoiceRow>("invoices", InvoiceList.SortKeys,
                ["status=open", "status=paid", "status=uncollectible", "search=smith", "search=INV-0001", $"dueTo={monthAgo}&status=open",
                 $"createdFrom={monthAgo}&createdTo={todayText}", "minAmount=100&maxAmount=500", "currency=GBP"],
                (s, f, p, ct) => s.GetRequiredService<InvoiceList>().PageAsync(f, p, ct)),
            .. ListCases<PaymentListFilter, PaymentRow>("payments", PaymentList.SortKeys,
                ["status=failed", "declineCode=insufficient_funds", "trigger=dunning_retry", "search=smith", $"from={monthAgo}&to={todayText}"],
                (s, f, p, ct) => s.GetRequiredService<PaymentList>().PageAsync(f, p, ct)),
            .. ListCases<DunningQueueFilter, DunningCaseListRow>("dunning", DunningQueue.SortKeys,
                ["status=retry_pending", "declineCode=insufficient_funds", "search=smith", $"openedFrom={monthAgo}", "minAmount=100"],
                (s, f, p, ct) => s.GetRequiredService<DunningQueue>().PageAsync(f, p, ct)),
            .. ListCases<AuditListFilter, AuditRow>("audit", AuditList.SortKeys,
                ["actor=system", "action=settings.update", "entityType=invoice", $"from={monthAgo}&to={todayText}"],
                (s, f, p, ct) => s.GetRequiredService<AuditList>().PageAsync(f, p, ct)),
            new("dashboard", "figures (the page's read)", (s, ct) => s.GetRequiredService<DashboardQueries>().CurrentOrLastAsync(ct)),
            new("dashboard", "open disputes", (s, ct) => s.GetRequiredService<DisputeList>().OpenAsync(10, ct)),
            new("dashboard", "reporting currency and rates", (s, ct) => s.GetRequiredService<ExchangeRateQueries>().CurrentAsync(ct)),
            .. AnalyticsCases(new DateOnly(today.Year, today.Month, 1).AddMonths(-1)),
        ];
    }

    /// <summary>Each read the Analytics page makes for last month, and the Journal page's deferred revenue of that month.</summary>
    private static IEnumerable<Case> AnalyticsCases(DateOnly month)
    {
        yield return new("analytics", "months with MRR", (s, ct) => s.GetRequiredService<MrrBridgeQueries>().MonthsAsync(ct));
        yield return new("analytics", "MRR bridge (waterfall, churn, retention)", (s, ct) => s.GetRequiredService<MrrBridgeQueries>().MonthAsync(month, ct));
        yield return new("analytics", "dunning recovery", (s, ct) => s.GetRequiredService<DunningStatistics>().ReportAsync(MrrBridgeQueries.PeriodOf(month), ct));
        yield return new("analytics", "cohort currencies", (s, ct) => s.GetRequiredService<CohortQueries>().CurrenciesAsync(ct));
        foreach (var cohorts in new[] { CohortQueries.DefaultCohortCount, CohortQueries.CohortCounts[^1] })
            yield return new("analytics", $"cohort table, {cohorts} sign-up months", (s, ct) => s.GetRequiredService<CohortQueries>().TableAsync("USD", month, cohorts, ct));
        yield return new("journal", "deferred revenue of the month", (s, ct) =>
            s.GetRequiredService<RevenueRecognitionQueries>().PeriodAsync(new JournalPeriod(month, month.AddMonths(1).AddDays(-1)), ct));
    }

    private static IEnumerable<Case> ListCases<TFilter, TRow>(string list, IReadOnlyCollection<string> sortKeys, string[] filters,
        Func<IServiceProvider, TFilter, PageRequest, CancellationToken, Task<PageResult<TRow>>> page) where TFilter : class, new()
    {
        yield return new(list, "first page", (s, ct) => page(s, new TFilter(), new PageRequest(0, PageSize, null, true), ct));
        yield return new(list, "page 200", (s, ct) => page(s, new TFilter(), new PageRequest(199, PageSize, null, true), ct));
        foreach (var key in sortKeys)
            foreach (var descending in new[] { false, true })
                yield return new(list, $"sort {key} {(descending ? "desc" : "asc")}",
                    (s, ct) => page(s, new TFilter(), new PageRequest(0, PageSize, key, descending), ct));
        foreach (var query in filters)
        {
            var (filter, errors) = ListFilters.Parse<TFilter>(QueryHelpers.ParseQuery(query));
            if (errors.Count > 0) throw new InvalidOperationException($"Benchmark filter '{query}': {string.Join(" ", errors)}");
            yield return new(list, $"filter {query}", (s, ct) => page(s, filter, new PageRequest(0, PageSize, null, true), ct));
        }
    }
}
