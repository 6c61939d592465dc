using System.Diagnostics;
using System.Globalization;
using BillingConsole.Configuration;
using BillingConsole.Domain.Billing;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Jobs;
using BillingConsole.Persistence;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Commands;

/// <summary>
/// benchmark-billing [--subscriptions N]: fills an empty database with N due subscriptions, runs one billing run to completion
/// through the real Hangfire jobs and the sandbox gateway, and prints throughput, time, peak memory, rows written, the time
/// per phase, and the time a binary COPY of the same rows takes on the same database (the ceiling the run is measured against).
/// </summary>
public static class BillingBenchmark
{
    public const string Name = "benchmark-billing";

    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchmarkReport.PositiveCount(args, "--subscriptions", 100_000) is not { } subscriptions) return 2;

        using var host = BillingWorkers(args);
        var services = host.Services;
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        var clock = services.GetRequiredService<TimeProvider>();
        await services.GetRequiredService<DatabaseStartup>().PrepareAsync(null, CancellationToken.None);

        if (!await BenchmarkReport.IsEmptyAsync(dataSource)) return 1;

        var setup = Stopwatch.StartNew();
        await BenchmarkPopulation.CreateDueSubscriptionsAsync(dataSource, subscriptions, clock.GetUtcNow(), BenchmarkPopulation.BillingRunCard,
            CancellationToken.None);
        Console.WriteLine($"Population: {subscriptions:N0} due subscriptions in {setup.Elapsed.TotalSeconds:F1} s");

        var statements = await StatementStatistics.ResetAsync(dataSource);
        var loadBefore = BenchmarkReport.LoadAverage();
        await host.StartAsync();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var total = Stopwatch.StartNew();
        Guid runId;
        await using (var scope = services.CreateAsyncScope())
            runId = await scope.ServiceProvider.GetRequiredService<BillingRunService>().StartAsync(Actor.System, BillingRunTriggers.Manual);

        TimeSpan? invoicedAfter = null;
        BillingRun run;
        while (true)
        {
            await Task.Delay(250);
            await using var scope = services.CreateAsyncScope();
            run = await scope.ServiceProvider.GetRequiredService<BillingDbContext>().BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
            if (invoicedAfter is null && run.ChunksDone == run.ChunkCount) invoicedAfter = total.Elapsed;
            if (run.Status != BillingRunStatus.Running) break;
        }
        var elapsed = total.Elapsed;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var peakWorkingSet = Process.GetCurrentProcess().PeakWorkingSet64;
        var loadAfter = BenchmarkReport.LoadAverage();
        await host.StopAsync();

        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<BillingOptions>>().Value;
        var hangfire = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HangfireOptions>>().Value;
        var rows = await RowsWrittenAsync(dataSource, runId);
        var seconds = (double)elapsed.TotalSeconds;
        var phases = services.GetRequiredService<BillingRunTimings>().Totals();
        var workerSeconds = phases.Values.Sum(t => t.TotalSeconds);
        var top = statements ? await StatementStatistics.TopAsync(dataSource, 12) : [];
        var copy = await CopyReference.MeasureBillingRunAsync(dataSource, runId, CancellationToken.None);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            Billing run {runId}: {run.Status.ToString().ToLowerInvariant()}{(run.Error is null ? "" : $" ({run.Error})")}
              due {run.DueCount:N0} in {run.ChunkCount:N0} chunks of {options.ChunkSize}; {hangfire.BillingWorkers} workers; charge concurrency {options.ChargeConcurrency}; {Environment.ProcessorCount} cores
              invoiced {run.InvoicedCount:N0} in {invoicedAfter?.TotalSeconds ?? seconds:F1} s = {run.InvoicedCount / (invoicedAfter?.TotalSeconds ?? seconds):N0} subscriptions/s
              charged {run.ChargedCount:N0} ok + {run.FailedCount:N0} failed in {seconds:F1} s = {(run.ChargedCount + run.FailedCount) / seconds:N0} charges/s (charging overlaps invoicing)
              total {seconds:F1} s; this process used {cpu.TotalSeconds:F1} s of CPU ({cpu.TotalMilliseconds / Math.Max(1, run.DueCount):F2} ms per subscription); peak working set {peakWorkingSet / 1024.0 / 1024.0:N0} MiB
              load average (1 min) {loadBefore} before, {loadAfter} after; other work on this machine shares its cores
              rows written: {string.Join(", ", rows.Select(r => $"{r.Key} {r.Value:N0}"))}; {rows.Values.Sum():N0} in all
            time per phase, summed over the {hangfire.BillingWorkers} workers ({workerSeconds:F1} s in all; phases of different chunks overlap):
            {BenchmarkReport.Phases(phases, run.DueCount, "subscriptions")}
            {BenchmarkReport.Copy(copy, seconds, "the run's")}
            {BenchmarkReport.Statements(statements, top)}
            """));
        return run.Status == BillingRunStatus.Completed ? 0 : 1;
    }

    /// <summary>
    /// The engine with Hangfire serving only the billing queue, so the dashboard refresh and other recurring work stay out of
    /// the measurement.
    /// </summary>
    internal static IHost BillingWorkers(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Hangfire:Queues:0"] = BillingChunkJob.Queue,
            ["Hangfire:Queues:1"] = BillingChunkJob.Queue,
            ["Hangfire:Queues:2"] = BillingChunkJob.Queue,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.AddBillingEngine();
        builder.AddBillingJobs();
        return builder.Build();
    }

    /// <summary>The rows the run wrote, counted table by table as the COPY reference copies them.</summary>
    private static async Task<Dictionary<string, long>> RowsWrittenAsync(NpgsqlDataSource dataSource, Guid runId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = new Dictionary<string, long>();
        foreach (var (table, where) in CopyReference.BillingRunRows(runId))
            rows[table] = await connection.ExecuteScalarAsync<long>($"select count(*) from {table} where {where}");
        return rows;
    }
}
