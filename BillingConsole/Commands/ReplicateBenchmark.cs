using System.Diagnostics;
using System.Globalization;
using BillingConsole.Domain.Billing;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.Persistence.DemoData;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Commands;

/// <summary>
/// benchmark-replicate [--base N] [--customers N] [--seed N]: on an empty database, makes a base of N customers through the
/// engine (due subscriptions, one billing run through the real Hangfire jobs and the sandbox gateway, 13 cards in 20
/// declined and one of them hard, so invoices, charges, dunning cases, emails and ledger postings are the engine's), then
/// copies it with <see cref="DemoReplicator"/> until the database holds the customers asked, and prints rows per second,
/// the time of each phase and the rows per table.
/// </summary>
public static class ReplicateBenchmark
{
    public const string Name = "benchmark-replicate";

    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchmarkReport.PositiveCount(args, "--base", 2_000) is not { } baseCustomers) return 2;
        if (BenchmarkReport.PositiveCount(args, "--customers", 100_000) is not { } customers) return 2;
        if (BenchmarkReport.PositiveCount(args, "--seed", 42) is not { } seed) return 2;

        using var host = BillingBenchmark.BillingWorkers(args);
        var services = host.Services;
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        await services.GetRequiredService<DatabaseStartup>().PrepareAsync(null, CancellationToken.None);
        if (!await BenchmarkReport.IsEmptyAsync(dataSource)) return 1;

        var setup = Stopwatch.StartNew();
        await BenchmarkPopulation.CreateDueSubscriptionsAsync(dataSource, baseCustomers, services.GetRequiredService<TimeProvider>().GetUtcNow(),
            BenchmarkPopulation.DunningRetryCard, CancellationToken.None);
        await host.StartAsync();
        var run = await BillAsync(services);
        await host.StopAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Base: {baseCustomers:N0} customers billed by the engine in {setup.Elapsed.TotalSeconds:F1} s ({run.ChargedCount:N0} charged, {run.FailedCount:N0} declined)"));

        var loadBefore = BenchmarkReport.LoadAverage();
        var replicator = new DemoReplicator(dataSource, services.GetRequiredService<ILogger<DemoReplicator>>());
        var summary = await replicator.ReplicateAsync(new DemoReplicaOptions { Customers = customers, Seed = seed }, CancellationToken.None);
        var seconds = summary.Elapsed.TotalSeconds;
        var copySeconds = summary.Phases.GetValueOrDefault("copy").TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            Replicated {summary.BaseCustomers:N0} base customers to {customers:N0}: {summary.Copies:N0} copies, {summary.Rows:N0} rows in {seconds:F1} s = {summary.Rows / seconds:N0} rows/s overall
              copying alone: {copySeconds:F1} s = {summary.Rows / Math.Max(copySeconds, 1e-9):N0} rows/s; {Environment.ProcessorCount} cores; load average (1 min) {loadBefore} before, {BenchmarkReport.LoadAverage()} after
            phases: {string.Join("; ", summary.Phases.Select(p => $"{p.Key} {p.Value.TotalSeconds:F1} s"))}
            rows copied: {string.Join(", ", summary.RowsCopied.Where(r => r.Value > 0).Select(r => $"{r.Key} {r.Value:N0}"))}
            """));
        return 0;
    }

    /// <summary>One billing run over the due subscriptions, through the Hangfire workers, waited for until it ends.</summary>
    private static async Task<BillingRun> BillAsync(IServiceProvider services)
    {
        Guid runId;
        await using (var scope = services.CreateAsyncScope())
            runId = await scope.ServiceProvider.GetRequiredService<BillingRunService>().StartAsync(Actor.System, BillingRunTriggers.Manual);
        while (true)
        {
            await Task.Delay(250);
            await using var scope = services.CreateAsyncScope();
            var run = await scope.ServiceProvider.GetRequiredService<BillingDbContext>().BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
            if (run.Status != BillingRunStatus.Running) return run;
        }
    }
}
