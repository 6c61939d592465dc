using BillingConsole.Domain.Billing;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Jobs;

/// <summary>The billing run through a real Hangfire server on PostgreSQL storage in the test database: the wiring, end to end.</summary>
public sealed class BillingRunHangfireTests
{
    [Fact]
    public async Task A_run_started_on_demand_is_carried_out_by_Hangfire_workers_to_completion()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("hangfire_run");
        await using var engine = EngineServices.Create(database, hangfire: true,
            settings: new Dictionary<string, string?> { ["Billing:ChunkSize"] = "100", ["Hangfire:BillingWorkerCount"] = "3" });
        var data = new BillingTestData(database, engine.Clock.GetUtcNow());
        var (_, price) = await data.PlanAsync(15m);
        await data.DueSubscriptionsAsync(price, 230, "pm_ok_", "pm_lost_card_");
        await engine.StartAsync();

        var runId = await engine.InScopeAsync<BillingRunService, Guid>(runs => runs.StartAsync(new Actor("admin@example.test", "admin"), BillingRunTriggers.Manual, CancellationToken.None));

        BillingRun run;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        do
        {
            await Task.Delay(250, TestContext.Current.CancellationToken);
            await using var db = database.NewContext();
            run = await db.BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId, TestContext.Current.CancellationToken);
        } while (run.Status == BillingRunStatus.Running && DateTime.UtcNow < deadline);

        Assert.Equal(BillingRunStatus.Completed, run.Status);
        Assert.Equal((230, 3, 3, 230, 115, 115), (run.DueCount, run.ChunkCount, run.ChunksDone, run.InvoicedCount, run.ChargedCount, run.FailedCount));
        await using var connection = await database.DataSource.OpenConnectionAsync(TestContext.Current.CancellationToken);
        Assert.Equal(3, await connection.QuerySingleAsync<int>(
            "select count(*)::int from hangfire.job where statename = 'Succeeded' and invocationdata::text like '%BillingChunkJob%'"));
        Assert.Equal(1, await connection.QuerySingleAsync<int>("select count(*)::int from audit_log where action = 'billing_run.start'"));

        // The billing queue has a server of its own with its own workers, and only that server ran the chunks.
        var servers = (await connection.QueryAsync<(string Id, string Queues, int Workers)>(
            "select id, (data::json -> 'Queues')::text, (data::json ->> 'WorkerCount')::int from hangfire.server")).ToList();
        var billing = Assert.Single(servers, server => server.Queues.Contains("billing"));
        Assert.Equal(("[\"billing\"]", 3), (billing.Queues.Replace(" ", ""), billing.Workers));
        Assert.Contains("-billing:", billing.Id, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(servers, server => server.Queues.Contains("dunning_retry") && server.Workers == 4);
        Assert.Equal([billing.Id], await connection.QueryAsync<string>("""
            select distinct s.data::json ->> 'ServerId' from hangfire.state s join hangfire.job j on j.id = s.jobid
            where s.name = 'Processing' and j.invocationdata::text like '%BillingChunkJob%'
            """));
    }
}
