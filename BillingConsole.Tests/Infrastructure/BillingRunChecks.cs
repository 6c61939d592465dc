using BillingConsole.Domain.Billing;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// A billing run queued on Hangfire storage for nodes running as their own processes to work, and what must hold once
/// they have, however they were killed on the way: every due subscription invoiced once for the period, every ledger
/// transaction balanced, no invoice paid twice, nothing left pending.
/// </summary>
public static class BillingRunChecks
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A node of the console as its own process, its Hangfire workers quick to take up a killed node's chunk.</summary>
    public static Dictionary<string, string?> NodeEnvironment(string connectionString) => KillTrialNode.Environment(connectionString, new Dictionary<string, string?>
    {
        ["Hangfire__WorkerCount"] = "4",
        ["Hangfire__BillingWorkerCount"] = "4",
        ["Billing__ChunkSize"] = "100",
        ["Billing__ChargeConcurrency"] = "4",
        // A killed node's charge claims lapse after this long (a minute in production), and its chunk charges them then.
        ["Billing__ChargeClaimSeconds"] = "15",
        // Slow enough that a run spans several seconds and a kill lands in invoicing or in charging.
        ["Gateway__Sandbox__LatencyMs"] = "25",
        // The trial is about kills. On a loaded machine a node just restarted can answer slower than the charge deadline, and
        // a handful of such timeouts would open the circuit breaker and hold charging for its whole break.
        ["Gateway__ChargeTimeoutMs"] = "10000",
        ["Gateway__CircuitBreaker__FailureThreshold"] = "1000",
    });

    /// <summary>
    /// <paramref name="subscriptions"/> due subscriptions (a third with declining cards) and a billing run queued on Hangfire
    /// storage in the database; <paramref name="settings"/> may point the engine elsewhere (e.g. through PgBouncer).
    /// </summary>
    public static async Task<(EngineServices Engine, Guid RunId)> QueueRunAsync(MigratedDatabase database, int subscriptions,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?> { ["Hangfire:RunServer"] = "false", ["Billing:ChunkSize"] = "100" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        var engine = EngineServices.Create(database, new FakeTimeProvider(DateTimeOffset.UtcNow), hangfire: true, settings: all);
        var data = new BillingTestData(database, engine.Clock.GetUtcNow());
        var (_, price) = await data.PlanAsync(25m);
        await data.DueSubscriptionsAsync(price, subscriptions, "pm_ok_", "pm_ok_", "pm_insufficient_funds_");
        var runId = await engine.InScopeAsync<BillingRunService, Guid>(runs => runs.StartAsync(Actor.System, BillingRunTriggers.Manual, Ct));
        return (engine, runId);
    }

    public static async Task<(int Invoices, int Succeeded, int Pending, int ChunksDone)> ProgressAsync(MigratedDatabase database, Guid runId)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(Ct);
        return await connection.QuerySingleAsync<(int, int, int, int)>("""
            select (select count(*)::int from invoices where billing_run_id = @runId),
                   (select count(*)::int from payment_attempts where status = 'succeeded'),
                   (select count(*)::int from payment_attempts where status = 'pending'),
                   (select count(*)::int from billing_run_chunks where run_id = @runId and charged_at is not null)
            """, new { runId });
    }

    public static async Task<BillingRun> WaitForCompletionAsync(MigratedDatabase database, Guid runId, Func<string> output, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
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

    public static async Task AssertNothingLostNothingDoubledAsync(MigratedDatabase database, Guid runId, int subscriptions, Action<string> report)
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
        report($"found: {invoicesPerSubscription.Count} subscriptions, {invoicesPerSubscription.Count(c => c == 1)} with exactly one invoice, " +
               $"{invoices} invoices, {succeeded} succeeded charges, {pending} attempts still pending, {unbalanced} unbalanced ledger transactions, " +
               $"{paidTwice} invoices paid twice, {receivableMismatch} receivable mismatches, {paidWithoutSuccess} paid/attempt mismatches");

        Assert.Equal(subscriptions, invoicesPerSubscription.Count);
        Assert.All(invoicesPerSubscription, count => Assert.Equal(1, count));
        Assert.Equal((0, 0, 0, 0, 0), (unbalanced, paidTwice, receivableMismatch, paidWithoutSuccess, pending));
        await using var db = database.NewContext();
        var run = await db.BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId, Ct);
        Assert.Equal((BillingRunStatus.Completed, subscriptions, invoices), (run.Status, run.DueCount, run.InvoicedCount));
        Assert.Equal(succeeded, run.ChargedCount);
    }
}
