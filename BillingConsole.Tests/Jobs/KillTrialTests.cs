using System.Diagnostics;
using BillingConsole.Tests.Infrastructure;
using Dapper;

namespace BillingConsole.Tests.Jobs;

/// <summary>
/// Crash safety with real processes: the console runs a billing run through its Hangfire workers and is killed (SIGKILL) at
/// random points again and again, then restarted; in the end every due subscription has exactly one invoice for the period,
/// every ledger transaction balances and no invoice was paid twice. With two nodes on one database the work is shared and
/// nothing is doubled either.
/// </summary>
public sealed class KillTrialTests
{
    private const int Subscriptions = 2_400;
    private const int Kills = 10;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Report(string line) => KillTrialNode.Report("kill trials", line);

    [Fact]
    public async Task A_billing_run_killed_at_random_points_ten_times_finishes_with_nothing_lost_and_nothing_doubled()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("kill_trials");
        var (engine, runId) = await BillingRunChecks.QueueRunAsync(database, Subscriptions);
        await using var _ = engine;
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var starts = new NodeStarts();
        Report($"tried: a run of {Subscriptions} due subscriptions in {Subscriptions / 100} chunks, the node killed {Kills} times " +
               $"at random points (seed {seed}), then restarted to finish");

        for (var trial = 1; trial <= Kills; trial++)
        {
            await using var node = await starts.StartAsync(BillingRunChecks.NodeEnvironment(database.ConnectionString));
            var delay = random.Next(500, 3_500);
            await Task.Delay(delay, Ct);
            await node.KillAsync();
            var (invoices, succeeded, pending, chunks) = await BillingRunChecks.ProgressAsync(database, runId);
            Report($"kill {trial}: up in {node.StartupTime.TotalSeconds:F1} s, killed {delay} ms after; {invoices} invoices, {succeeded} charges, {pending} pending attempts, {chunks} chunks done");
        }

        await using (var node = await starts.StartAsync(BillingRunChecks.NodeEnvironment(database.ConnectionString)))
        {
            var finishing = Stopwatch.StartNew();
            await BillingRunChecks.WaitForCompletionAsync(database, runId, () => node.Output, TimeSpan.FromMinutes(4));
            Report($"the last node finished the run {finishing.Elapsed.TotalSeconds:F1} s after it answered");
        }
        Report(starts.Summary());

        await BillingRunChecks.AssertNothingLostNothingDoubledAsync(database, runId, Subscriptions, Report);
    }

    [Fact]
    public async Task Two_nodes_on_one_database_share_a_billing_run_and_double_nothing()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("two_nodes");
        Report($"tried: two nodes on one database working one run of {Subscriptions} due subscriptions");
        // Both nodes are up and polling before the run is queued, so neither has finished it before the other starts.
        await using var first = await ConsoleProcess.StartAsync(BillingRunChecks.NodeEnvironment(database.ConnectionString));
        await using var second = await ConsoleProcess.StartAsync(BillingRunChecks.NodeEnvironment(database.ConnectionString));
        var (engine, runId) = await BillingRunChecks.QueueRunAsync(database, Subscriptions);
        await using var _ = engine;
        await BillingRunChecks.WaitForCompletionAsync(database, runId, () => first.Output + second.Output, TimeSpan.FromMinutes(4));

        await using var connection = await database.DataSource.OpenConnectionAsync(Ct);
        // Each Hangfire state row of a processed chunk names the server that processed it.
        var servers = (await connection.QueryAsync<string>("""
            select distinct s.data::json ->> 'ServerId' from hangfire.state s join hangfire.job j on j.id = s.jobid
            where s.name = 'Processing' and j.invocationdata::text like '%BillingChunkJob%'
            """)).ToList();
        Report($"found: chunks processed by {servers.Count} node(s)");
        Assert.Equal(2, servers.Count);
        await BillingRunChecks.AssertNothingLostNothingDoubledAsync(database, runId, Subscriptions, Report);
    }
}
