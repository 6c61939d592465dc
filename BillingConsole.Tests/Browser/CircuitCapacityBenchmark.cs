using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using BillingConsole.Persistence.DemoData;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// A measurement, not a test (explicit: the suite never runs it): the memory a Blazor Server circuit costs a node, with
/// real chromium pages holding the dashboard open while a billing run goes on. docs/performance.md keeps the figures and
/// the systemd unit's limits follow from them. Run it with
/// <c>CIRCUITS=100 ./test.sh -class BillingConsole.Tests.Browser.CircuitCapacityBenchmark -explicit only</c>.
/// </summary>
public sealed partial class CircuitCapacityBenchmark
{
    private const int DueSubscriptions = 20_000;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Report(string line)
    {
        Console.WriteLine($"[circuit capacity] {line}");
        TestContext.Current.TestOutputHelper?.WriteLine(line);
    }

    [Fact(Explicit = true)]
    public async Task Memory_per_circuit_with_dashboards_open_during_a_billing_run()
    {
        var circuits = int.TryParse(Environment.GetEnvironmentVariable("CIRCUITS"), out var wanted) && wanted > 1 ? wanted : 100;
        await using var database = await TestDatabases.CreateMigratedAsync("circuit_capacity");
        // Dashboards with figures to show: the demo population and its snapshot, made as the run command makes them.
        await using (var seeding = EngineServices.Create(database, new FakeTimeProvider(DateTimeOffset.UtcNow)))
        {
            await seeding.Get<DemoDataGenerator>().GenerateAsync(
                new DemoDataOptions { Seed = 7, Customers = 2_000, Now = seeding.Clock.GetUtcNow() }, Ct);
            await seeding.InScopeAsync<DashboardRefresher>(refresher => refresher.RefreshAsync(Ct));
        }
        var environment = BillingRunChecks.NodeEnvironment(database.ConnectionString);
        environment["Billing__ChunkSize"] = "500";
        await using var node = await ConsoleProcess.StartAsync(environment);

        using var playwright = await Playwright.CreateAsync();
        // A browser of its own: its pages share a few renderer processes, so that a hundred of them fit a small machine.
        await using var chromium = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--renderer-process-limit=8",
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding"],
        });
        var context = await chromium.NewContextAsync(new BrowserNewContextOptions { BaseURL = node.BaseAddress.ToString(), ViewportSize = new() { Width = 1440, Height = 1000 } });
        context.SetDefaultTimeout(120_000);
        var first = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(first, "finance", "Fay Finance", "/");

        // Per circuit on a quiet node, where nothing else moves the node's memory; then the same circuits through a run.
        var one = await SettledMemoryAsync(node);
        var heapWithOne = await HeapAfterLastCollectionAsync(node);
        var opened = Stopwatch.StartNew();
        for (var i = 1; i < circuits; i++)
            await AdminPages.OpenAsync(await context.NewPageAsync(), "/");
        var all = await SettledMemoryAsync(node);
        var perCircuit = (all - one) / (circuits - 1);
        Report($"quiet node: 1 circuit {Mib(one)} MiB resident (managed heap after the last collection {heapWithOne}); {circuits} circuits (opened in {opened.Elapsed.TotalSeconds:F0} s) {Mib(all)} MiB; " +
               $"per circuit {perCircuit / 1024.0:F0} KiB; managed heap after the last collection {await HeapAfterLastCollectionAsync(node)}");

        var (engine, runId) = await BillingRunChecks.QueueRunAsync(database, DueSubscriptions, new Dictionary<string, string?> { ["Billing:ChunkSize"] = "500" });
        await using var _ = engine;
        var peak = 0L;
        for (var sample = 0; sample < 6; sample++)
            peak = Math.Max(peak, await SettledMemoryAsync(node));
        var progress = await BillingRunChecks.ProgressAsync(database, runId);
        Report($"{circuits} circuits during a billing run of {DueSubscriptions} (at {progress.Invoices} invoices after 30 s): {Mib(peak)} MiB resident at most; " +
               $"managed heap after the last collection {await HeapAfterLastCollectionAsync(node)}");
        Report($"2,000 circuits on one node during a run: {Mib(peak + (2_000 - circuits) * perCircuit)} MiB resident");
        Assert.False(node.HasExited, node.Output);
    }

    /// <summary>The node's resident memory once it has been still for a few seconds (VmRSS, what the cgroup's limits count).</summary>
    private static async Task<long> SettledMemoryAsync(ConsoleProcess node)
    {
        await Task.Delay(TimeSpan.FromSeconds(5), Ct);
        var status = await File.ReadAllTextAsync($"/proc/{node.ProcessId}/status", Ct);
        return long.Parse(ResidentKib().Match(status).Groups[1].Value) * 1024;
    }

    /// <summary>What the garbage collector kept at its last collection, all generations, from the node's /metrics.</summary>
    private static async Task<string> HeapAfterLastCollectionAsync(ConsoleProcess node)
    {
        using var client = new HttpClient { BaseAddress = node.BaseAddress };
        var samples = HeapSample().Matches(await client.GetStringAsync("/metrics", Ct));
        return samples.Count == 0 ? "not reported" : $"{Mib(samples.Sum(m => (long)double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)))} MiB";
    }

    private static string Mib(long bytes) => (bytes / 1024.0 / 1024.0).ToString("F0");

    [GeneratedRegex(@"VmRSS:\s+(\d+) kB")]
    private static partial Regex ResidentKib();

    [GeneratedRegex(@"^dotnet_gc_last_collection_heap_size_bytes\{[^}]*\} (\S+)", RegexOptions.Multiline)]
    private static partial Regex HeapSample();
}
