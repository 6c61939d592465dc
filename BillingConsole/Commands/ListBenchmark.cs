using System.Diagnostics;
using System.Globalization;
using BillingConsole.Components.Shared;
using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using Microsoft.AspNetCore.WebUtilities;

namespace BillingConsole.Commands;

/// <summary>
/// benchmark-lists [--repeat N]: times what the console's pages ask the database for, against the configured database (fill
/// it first, e.g. ./run.sh --reset --scale 1000000): each list's first page, every sort both ways, every filter, a deep page,
/// and the dashboard. Prints the median and slowest of N timings per case in milliseconds, then the cases over the target.
/// </summary>
public static class ListBenchmark
{
    public const string Name = "benchmark-lists";
    private const double TargetMs = 150;
    private const int PageSize = 50;

    private sealed record Case(string List, string What, Func<IServiceProvider, CancellationToken, Task> Run);

    public static async Task<int> RunAsync(string[] args)
    {
        var repeat = 5;
        var index = Array.IndexOf(args, "--repeat");
        if (index >= 0 && (index + 1 >= args.Length || !int.TryParse(args[index + 1], out repeat) || repeat < 1))
        {
            await Console.Error.WriteLineAsync("--repeat needs a positive whole number, e.g. --repeat 5.");
            return 2;
        }

        var builder = Host.CreateApplicationBuilder(args);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" });
        builder.AddBillingEngine();
        using var host = builder.Build();
        var services = host.Services;
        await services.GetRequiredService<DatabaseStartup>().PrepareAsync(null, CancellationToken.None);
        var today = DateOnly.FromDateTime(services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime);

        Console.WriteLine($"{"list",-14} {"case",-58} {"median ms",10} {"max ms",8}");
        var results = new List<(Case Case, double Median)>();
        foreach (var benchmarkCase in Cases(today))
        {
            await benchmarkCase.Run(services, CancellationToken.None); // warm: plans cached, pages in memory, as a console in use has them
            var timings = new List<double>(repeat);
            for (var i = 0; i < repeat; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await benchmarkCase.Run(services, CancellationToken.None);
                timings.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            timings.Sort();
            var median = timings[timings.Count / 2];
            results.Add((benchmarkCase, median));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{benchmarkCase.List,-14} {benchmarkCase.What,-58} {median,10:F1} {timings[^1],8:F1}"));
        }

        var slow = results.Where(r => r.Median > TargetMs).ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{results.Count} cases, median of {repeat}: {slow.Count} over {TargetMs} ms; slowest {results.Max(r => r.Median):F1} ms " +
            $"({results.MaxBy(r => r.Median).Case.List}: {results.MaxBy(r => r.Median).Case.What})"));
        return 0;
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
        ];
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
