using BillingConsole.Domain.Billing;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Tests.Api;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Jobs;

/// <summary>Redis holds only caches: a billing run whose Redis goes away part-way finishes, and finishes correctly.</summary>
[Collection(typeof(RedisOutage))]
public sealed class BillingRunWithoutRedisTests
{
    [Fact]
    public async Task A_run_completes_correctly_when_Redis_stops_part_way()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await TestDatabases.CreateMigratedAsync("run_without_redis");
        await using var engine = EngineServices.Create(database, hangfire: true, settings: new Dictionary<string, string?> { ["Billing:ChunkSize"] = "100" });
        var data = new BillingTestData(database, engine.Clock.GetUtcNow());
        var (_, price) = await data.PlanAsync(15m);
        await data.DueSubscriptionsAsync(price, 600, "pm_ok_", "pm_insufficient_funds_");
        await engine.StartAsync();

        BillingRun run;
        try
        {
            var runId = await engine.InScopeAsync<BillingRunService, Guid>(runs => runs.StartAsync(Actor.System, BillingRunTriggers.Manual, ct));
            await TestServers.StopRedisAsync();
            var deadline = DateTime.UtcNow.AddSeconds(120);
            do
            {
                await Task.Delay(250, ct);
                await using var db = database.NewContext();
                run = await db.BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId, ct);
            } while (run.Status == BillingRunStatus.Running && DateTime.UtcNow < deadline);
        }
        finally
        {
            await TestServers.StartRedisAsync();
        }

        Assert.Equal((BillingRunStatus.Completed, 600, 600, 300, 300), (run.Status, run.DueCount, run.InvoicedCount, run.ChargedCount, run.FailedCount));
        await using var connection = await database.DataSource.OpenConnectionAsync(ct);
        Assert.Equal(600, await connection.QuerySingleAsync<int>("select count(distinct subscription_id)::int from invoices where billing_run_id = @id", new { id = run.Id }));
        Assert.Equal(0, await connection.QuerySingleAsync<int>(
            "select count(*)::int from (select transaction_id from ledger_entries group by transaction_id having sum(debit) <> sum(credit)) u"));
    }
}
