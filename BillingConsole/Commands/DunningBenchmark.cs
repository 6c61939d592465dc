using System.Diagnostics;
using System.Globalization;
using BillingConsole.Configuration;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Dunning;
using BillingConsole.Persistence;
using Dapper;
using Npgsql;

namespace BillingConsole.Commands;

/// <summary>
/// benchmark-dunning [--retries N]: fills an empty database with N open dunning cases due for a retry (each invoice's first
/// charge declined), makes one pass of the retry runner through the sandbox gateway (a mix of successes, soft and hard
/// declines), and prints throughput, time, peak memory, what the cases became, the time per phase, and the time a binary
/// COPY of the rows the pass wrote takes on the same database.
/// </summary>
public static class DunningBenchmark
{
    public const string Name = "benchmark-dunning";

    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchmarkReport.PositiveCount(args, "--retries", 100_000) is not { } retries) return 2;

        // The pass is the retry runner the dunning job calls.
        using var host = await BenchmarkReport.EngineHostAsync(args);
        var services = host.Services;
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        var clock = services.GetRequiredService<TimeProvider>();

        if (!await BenchmarkReport.IsEmptyAsync(dataSource)) return 1;

        var setup = Stopwatch.StartNew();
        int policyVersion;
        await using (var scope = services.CreateAsyncScope())
            policyVersion = (await scope.ServiceProvider.GetRequiredService<DunningPolicyCommands>().CurrentAsync(CancellationToken.None)).Version;
        await BenchmarkPopulation.CreateDueSubscriptionsAsync(dataSource, retries, clock.GetUtcNow(), BenchmarkPopulation.DunningRetryCard, CancellationToken.None);
        await BenchmarkPopulation.CreateDueDunningCasesAsync(dataSource, policyVersion, CancellationToken.None);
        Console.WriteLine($"Population: {retries:N0} open dunning cases due for a retry in {setup.Elapsed.TotalSeconds:F1} s");
        // The scheduler's recovery model is read once an hour, whatever the pass's size: loaded first, so the pass is timed alone.
        var model = Stopwatch.StartNew();
        await services.GetRequiredService<RecoveryHistory>().RefreshAsync(CancellationToken.None);
        Console.WriteLine($"Recovery model loaded in {model.Elapsed.TotalSeconds:F1} s");

        var statements = await StatementStatistics.ResetAsync(dataSource);
        var loadBefore = BenchmarkReport.LoadAverage();
        await host.StartAsync();
        var passStarted = clock.GetUtcNow();
        var databaseCpuBefore = await DatabaseCpu.SampleAsync(dataSource);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var total = Stopwatch.StartNew();
        var started = await services.GetRequiredService<DunningRetryRunner>().RunDueAsync(CancellationToken.None);
        var elapsed = total.Elapsed;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var databaseCpu = DatabaseCpu.Between(databaseCpuBefore, await DatabaseCpu.SampleAsync(dataSource));
        var peakWorkingSet = Process.GetCurrentProcess().PeakWorkingSet64;
        var loadAfter = BenchmarkReport.LoadAverage();
        await host.StopAsync();

        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<BillingOptions>>().Value;
        var seconds = elapsed.TotalSeconds;
        var phases = services.GetRequiredService<BillingRunTimings>().Totals();
        var (attempts, cases) = await OutcomesAsync(dataSource);
        var top = statements ? await StatementStatistics.TopAsync(dataSource, 12) : [];
        var copy = await CopyReference.MeasureAsync(dataSource, WrittenSince(passStarted), CancellationToken.None);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            Dunning retry pass: {started:N0} retries started of {retries:N0} due; charge concurrency {options.ChargeConcurrency}; {Environment.ProcessorCount} cores
              {started / seconds:N0} retries/s in {seconds:F1} s; this process used {cpu.TotalSeconds:F1} s of CPU ({cpu.TotalMilliseconds / Math.Max(1, started):F2} ms per retry); peak working set {peakWorkingSet / 1024.0 / 1024.0:N0} MiB
              {CpuPerRetry(cpu.TotalSeconds, databaseCpu, started)}
              load average (1 min) {loadBefore} before, {loadAfter} after; other work on this machine shares its cores
              retry attempts: {string.Join(", ", attempts.Select(a => $"{a.Key} {a.Value:N0}"))}
              dunning cases now: {string.Join(", ", cases.Select(c => $"{c.Key} {c.Value:N0}"))}
            time per phase, summed over the concurrent rounds ({phases.Values.Sum(t => t.TotalSeconds):F1} s in all):
            {BenchmarkReport.Phases(phases, started, "retries")}
            {BenchmarkReport.Copy(copy, seconds, "the pass's")}
            {BenchmarkReport.Statements(statements, top)}
            """));
        return started == retries ? 0 : 1;
    }

    /// <summary>
    /// The database server's CPU per retry beside the app's, and the rate both together allow on this machine's cores when
    /// nothing else runs: the ceiling the pass's work sets, whatever the load when it was measured.
    /// </summary>
    private static string CpuPerRetry(double appSeconds, double? databaseSeconds, int started)
    {
        if (databaseSeconds is not { } database) return "the database server's CPU was not measured (its processes are not on this machine)";
        var perRetryMs = (appSeconds + database) * 1000 / Math.Max(1, started);
        return string.Create(CultureInfo.InvariantCulture,
            $"the database server used {database:F1} s of CPU ({database * 1000 / Math.Max(1, started):F2} ms per retry); app and database {perRetryMs:F2} ms per retry: at most {Environment.ProcessorCount * 1000 / perRetryMs:N0} retries/s on {Environment.ProcessorCount} idle cores");
    }

    /// <summary>The rows the pass wrote or changed: each table's rows stamped at or after its start.</summary>
    private static (string Table, string Where)[] WrittenSince(DateTimeOffset passStarted)
    {
        var since = $"'{passStarted.UtcDateTime:O}'::timestamptz";
        return
        [
            ("payment_attempts", $"started_at >= {since}"),
            ("dunning_cases", $"updated_at >= {since}"),
            ("invoices", $"paid_at >= {since}"),
            ("ledger_entries", $"occurred_at >= {since}"),
            ("notifications", $"created_at >= {since}"),
            ("audit_log", $"occurred_at >= {since}"),
        ];
    }

    private static async Task<(Dictionary<string, long> Attempts, Dictionary<string, long> Cases)> OutcomesAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var attempts = (await connection.QueryAsync<(string Status, long Count)>(
            "select status, count(*) from payment_attempts where trigger = 'dunning_retry' group by status order by status")).ToDictionary(r => r.Status, r => r.Count);
        var cases = (await connection.QueryAsync<(string Status, long Count)>(
            "select status, count(*) from dunning_cases group by status order by status")).ToDictionary(r => r.Status, r => r.Count);
        return (attempts, cases);
    }
}
