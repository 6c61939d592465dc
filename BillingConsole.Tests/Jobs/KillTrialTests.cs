using BillingConsole.Domain.Billing;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

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

    private static void Report(string line)
    {
        // Printed on the runner's output as well, so that the test command shows what was tried and found.
        Console.WriteLine($"[kill trials] {line}");
        TestContext.Current.TestOutputHelper?.WriteLine(line);
    }

    private static Dictionary<string, string?> NodeEnvironment(MigratedDatabase database) => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        ["Authentication__DevelopmentSignIn"] = "true",
        ["ConnectionStrings__Billing"] = database.ConnectionString,
        ["Redis__Configuration"] = TestServers.RedisConfiguration,
        ["Logging__LogLevel__Default"] = "Warning",
        ["Hangfire__WorkerCount"] = "4",
        ["Hangfire__PollingIntervalSeconds"] = "1",
        // A killed node's chunk comes back to the queue after this long.
        ["Hangfire__InvisibilityTimeoutSeconds"] = "8",
        ["Billing__ChunkSize"] = "100",
        ["Billing__ChargeConcurrency"] = "4",
        // Slow enough that the run spans the trials and kills land in invoicing and in charging.
        ["Gateway__Sandbox__LatencyMs"] = "25",
        // The trial is about kills. On a loaded machine a node just restarted can answer slower than the charge deadline, and
        // a handful of such timeouts would open the circuit breaker and hold charging for its whole break.
        ["Gateway__ChargeTimeoutMs"] = "10000",
        ["Gateway__CircuitBreaker__FailureThreshold"] = "1000",
    };

    /// <summary>Due subscriptions (a third with declining cards) and a billing run queued on Hangfire storage in the database.</summary>
    private static async Task<(EngineServices Engine, Guid RunId)> QueueRunAsync(MigratedDatabase database)
    {
        var engine = EngineServices.Create(database, new FakeTimeProvider(DateTimeOffset.UtcNow), hangfire: true,
            settings: new Dictionary<string, string?> { ["Hangfire:RunServer"] = "false", ["Billing:ChunkSize"] = "100" });
        var data = new BillingTestData(database, engine.Clock.GetUtcNow());
        var (_, price) = await data.PlanAsync(25m);
        await data.DueSubscriptionsAsync(price, Subscriptions, "pm_ok_", "pm_ok_", "pm_insufficient_funds_");
        var runId = await engine.InScopeAsync<BillingRunService, Guid>(runs => runs.StartAsync(Actor.System, BillingRunTriggers.Manual, Ct));
        return (engine, runId);
    }

    private static async Task<(int Invoices, int Succeeded, int Pending, int ChunksDone)> ProgressAsync(MigratedDatabase database, Guid runId)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(Ct);
        return await connection.QuerySingleAsync<(int, int, int, int)>("""
            select (select count(*)::int from invoices where billing_run_id = @runId),
                   (select count(*)::int from payment_attempts where status = 'succeeded'),
                   (select count(*)::int from payment_attempts where status = 'pending'),
                   (select count(*)::int from billing_run_chunks where run_id = @runId and charged_at is not null)
            """, new { runId });
    }

    private static async Task<BillingRun> WaitForCompletionAsync(MigratedDatabase database, Guid runId, Func<string> output)
    {
        var deadline = DateTime.UtcNow.AddMinutes(4);
        while (true)
        {
            await using (var db = database.NewContext())
            {
                var run = await db.BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId, Ct);
                if (run.Status != BillingRunStatus.Running) return run;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The run did not finish; progress {await ProgressAsync(database, runId)}:\n{output()}");
            await Task.Delay(500, Ct);
        }
    }

    private static async Task AssertNothingLostNothingDoubledAsync(MigratedDatabase database, Guid runId)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(Ct);
        var invoicesPerSubscription = (await connection.QueryAsync<int>("""
            select count(i.id)::int from subscriptions s
            left join invoices i on i.subscription_id = s.id and i.kind = 'subscription_cycle'
            group by s.id
            """)).ToList();
        var unbalanced = await connection.QuerySingleAsync<int>(
            "select count(*)::int from (select transaction_id from ledger_entries group by transaction_id having sum(debit) <> sum(credit)) u");
        var paidTwice = await connection.QuerySingleAsync<int>(
            "select count(*)::int from (select invoice_id from payment_attempts where status = 'succeeded' group by invoice_id having count(*) > 1) d");
        var receivableMismatch = await connection.QuerySingleAsync<int>("""
            select count(*)::int from invoices i
            where i.amount_due <> (select coalesce(sum(debit - credit), 0) from ledger_entries e where e.invoice_id = i.id and e.account = 'receivable')
            """);
        var paidWithoutSuccess = await connection.QuerySingleAsync<int>("""
            select count(*)::int from invoices i
            where (i.status = 'paid') <> exists (select 1 from payment_attempts a where a.invoice_id = i.id and a.status = 'succeeded')
            """);
        var (invoices, succeeded, pending, _) = await ProgressAsync(database, runId);
        Report($"found: {invoicesPerSubscription.Count} subscriptions, {invoicesPerSubscription.Count(c => c == 1)} with exactly one invoice, " +
               $"{invoices} invoices, {succeeded} succeeded charges, {pending} attempts still pending, {unbalanced} unbalanced ledger transactions, " +
               $"{paidTwice} invoices paid twice, {receivableMismatch} receivable mismatches, {paidWithoutSuccess} paid/attempt mismatches");

        Assert.Equal(Subscriptions, invoicesPerSubscription.Count);
        Assert.All(invoicesPerSubscription, count => Assert.Equal(1, count));
        Assert.Equal((0, 0, 0, 0, 0), (unbalanced, paidTwice, receivableMismatch, paidWithoutSuccess, pending));
        await using var db = database.NewContext();
        var run = await db.BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId, Ct);
        Assert.Equal((BillingRunStatus.Completed, Subscriptions, invoices), (run.Status, run.DueCount, run.InvoicedCount));
        Assert.Equal(succeeded, run.ChargedCount);
    }

    [Fact]
    public async Task A_billing_run_killed_at_random_points_ten_times_finishes_with_nothing_lost_and_nothing_doubled()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("kill_trials");
        var (engine, runId) = await QueueRunAsync(database);
        await using var _ = engine;
        var seed = Environment.TickCount;
        var random = new Random(seed);
        Report($"tried: a run of {Subscriptions} due subscriptions in {Subscriptions / 100} chunks, the node killed {Kills} times " +
               $"at random points (seed {seed}), then restarted to finish");

        for (var trial = 1; trial <= Kills; trial++)
        {
            await using var node = await ConsoleProcess.StartAsync(NodeEnvironment(database));
            var delay = random.Next(500, 3_500);
            await Task.Delay(delay, Ct);
            await node.KillAsync();
            var (invoices, succeeded, pending, chunks) = await ProgressAsync(database, runId);
            Report($"kill {trial}: {delay} ms after start-up; {invoices} invoices, {succeeded} charges, {pending} pending attempts, {chunks} chunks done");
        }

        await using (var node = await ConsoleProcess.StartAsync(NodeEnvironment(database)))
            await WaitForCompletionAsync(database, runId, () => node.Output);

        await AssertNothingLostNothingDoubledAsync(database, runId);
    }

    [Fact]
    public async Task Two_nodes_on_one_database_share_a_billing_run_and_double_nothing()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("two_nodes");
        Report($"tried: two nodes on one database working one run of {Subscriptions} due subscriptions");
        // Both nodes are up and polling before the run is queued, so neither has finished it before the other starts.
        await using var first = await ConsoleProcess.StartAsync(NodeEnvironment(database));
        await using var second = await ConsoleProcess.StartAsync(NodeEnvironment(database));
        var (engine, runId) = await QueueRunAsync(database);
        await using var _ = engine;
        await WaitForCompletionAsync(database, runId, () => first.Output + second.Output);

        await using var connection = await database.DataSource.OpenConnectionAsync(Ct);
        // Each Hangfire state row of a processed chunk names the server that processed it.
        var servers = (await connection.QueryAsync<string>("""
            select distinct s.data::json ->> 'ServerId' from hangfire.state s join hangfire.job j on j.id = s.jobid
            where s.name = 'Processing' and j.invocationdata::text like '%BillingChunkJob%'
            """)).ToList();
        Report($"found: chunks processed by {servers.Count} node(s)");
        Assert.Equal(2, servers.Count);
        await AssertNothingLostNothingDoubledAsync(database, runId);
    }
}
