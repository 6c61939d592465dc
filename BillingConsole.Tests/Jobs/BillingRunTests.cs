using BillingConsole.Domain.Billing;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Tests.Jobs;

public sealed class BillingRunTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;
    private Price _price = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("billing_run");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
        (_, _price) = await _data.PlanAsync(20m);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    private Task<Guid> StartAsync(EngineServices? engine = null) =>
        (engine ?? _engine).InScopeAsync<BillingRunService, Guid>(runs => runs.StartAsync(Actor.System, BillingRunTriggers.Manual, CancellationToken.None));

    private async Task<BillingRun> RunAsync(Guid runId)
    {
        await using var db = _database.NewContext();
        return await db.BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
    }

    private async Task<NpgsqlConnection> ConnectAsync() => await _database.DataSource.OpenConnectionAsync();

    private async Task AssertOneCycleInvoicePerSubscriptionPeriodAsync()
    {
        await using var connection = await ConnectAsync();
        Assert.Equal(0, await connection.QuerySingleAsync<int>(
            "select count(*)::int from (select 1 from invoices where kind = 'subscription_cycle' group by subscription_id, period_start having count(*) > 1) d"));
        Assert.Equal(0, await connection.QuerySingleAsync<int>(
            "select count(*)::int from (select 1 from payment_attempts where status = 'succeeded' group by invoice_id having count(*) > 1) d"));
    }

    private async Task AssertLedgerBalancedAsync()
    {
        await using var connection = await ConnectAsync();
        Assert.Equal(0, await connection.QuerySingleAsync<int>(
            "select count(*)::int from (select transaction_id from ledger_entries group by transaction_id having sum(debit) <> sum(credit)) u"));
        // Receivable per invoice equals what is still due on it.
        Assert.Equal(0, await connection.QuerySingleAsync<int>("""
            select count(*)::int from invoices i
            where i.amount_due <> (select coalesce(sum(debit - credit), 0) from ledger_entries e where e.invoice_id = i.id and e.account = 'receivable')
            """));
    }

    private async Task AssertCountersMatchTheDatabaseAsync(Guid runId)
    {
        var run = await RunAsync(runId);
        await using var connection = await ConnectAsync();
        var invoiced = await connection.QuerySingleAsync<int>("select count(*)::int from invoices where billing_run_id = @runId", new { runId });
        var charged = await connection.QuerySingleAsync<int>(
            "select count(*)::int from payment_attempts a join invoices i on i.id = a.invoice_id where i.billing_run_id = @runId and a.status = 'succeeded'", new { runId });
        var failed = await connection.QuerySingleAsync<int>(
            "select count(*)::int from payment_attempts a join invoices i on i.id = a.invoice_id where i.billing_run_id = @runId and a.status in ('failed', 'unknown')", new { runId });
        Assert.Equal(BillingRunStatus.Completed, run.Status);
        Assert.NotNull(run.FinishedAt);
        Assert.Equal((invoiced, charged, failed, run.ChunkCount), (run.InvoicedCount, run.ChargedCount, run.FailedCount, run.ChunksDone));
    }

    [Fact]
    public async Task Due_subscriptions_are_invoiced_once_with_the_right_totals_charged_and_counted()
    {
        var due = await _data.DueSubscriptionsAsync(_price, 250, "pm_ok_", "pm_ok_", "pm_insufficient_funds_", "pm_expired_card_");
        var notDue = await _data.SubscriptionAsync(await _data.CustomerAsync(), _price, endedAgo: TimeSpan.FromDays(-3));

        var runId = await StartAsync();
        var planned = await RunAsync(runId);
        await _engine.RunEnqueuedChunksAsync();

        Assert.Equal((250, 3), (planned.DueCount, planned.ChunkCount));
        await AssertCountersMatchTheDatabaseAsync(runId);
        var run = await RunAsync(runId);
        Assert.Equal((250, 126, 124), (run.InvoicedCount, run.ChargedCount, run.FailedCount));
        await using var db = _database.NewContext();
        var invoices = await db.Invoices.AsNoTracking().Include(i => i.Lines).Where(i => i.BillingRunId == runId).ToListAsync(Ct);
        var subscriptions = await db.Subscriptions.AsNoTracking().ToDictionaryAsync(s => s.Id, Ct);
        foreach (var subscription in due)
        {
            var invoice = Assert.Single(invoices, i => i.SubscriptionId == subscription.Id);
            Assert.Equal(20m * subscription.Quantity, invoice.Total.Amount);
            Assert.Equal(invoice.Total, invoice.Lines.Single().Amount);
            Assert.Equal(subscription.CurrentPeriodEnd, invoice.PeriodStart);
            Assert.Equal(invoice.PeriodStart, subscriptions[subscription.Id].CurrentPeriodStart);
            Assert.Equal(invoice.PeriodEnd, subscriptions[subscription.Id].CurrentPeriodEnd);
            Assert.StartsWith("INV-", invoice.Number);
        }
        Assert.DoesNotContain(invoices, i => i.SubscriptionId == notDue.Id);
        Assert.Equal(250, invoices.Select(i => i.Number).Distinct().Count());
        Assert.Equal(124, subscriptions.Values.Count(s => s.Status == SubscriptionStatus.PastDue));
        Assert.Equal(126, invoices.Count(i => i.Status == InvoiceStatus.Paid));
        await AssertLedgerBalancedAsync();
        await AssertOneCycleInvoicePerSubscriptionPeriodAsync();
    }

    [Fact]
    public async Task The_due_subscriptions_a_run_did_not_invoice_are_listed_with_what_happened_to_them()
    {
        var due = await _data.DueSubscriptionsAsync(_price, 6);
        var ending = await _data.SubscriptionAsync(await _data.CustomerAsync(), _price, adjust: s => s.ScheduleCancellation());
        var runId = await StartAsync();
        var list = new BillingRunList(_database.DataSource);
        // Before any chunk has run nothing is reported as left out.
        Assert.Empty(await list.NotInvoicedAsync(runId, 500, Ct));
        // Paused by support after the run selected it, before its chunk ran.
        await using (var db = _database.NewContext())
        {
            (await db.Subscriptions.SingleAsync(s => s.Id == due[0].Id, Ct)).Pause(_data.Now);
            await db.SaveChangesAsync(Ct);
        }
        await _engine.RunEnqueuedChunksAsync();

        var run = await RunAsync(runId);
        var skipped = await list.NotInvoicedAsync(runId, 500, Ct);
        Assert.Equal((7, 5), (run.DueCount, run.InvoicedCount));
        Assert.Equal(
            [(due[0].Id, "paused after the run selected it"), (ending.Id, "ended at its period end, as scheduled")],
            skipped.Select(r => (r.SubscriptionId, r.Outcome(run.AsOf))).OrderBy(r => r.Item1 == ending.Id));
        Assert.Equal(run.DueCount - run.InvoicedCount, skipped.Count);
    }

    [Fact]
    public async Task A_rerun_writes_no_new_invoices_even_when_a_period_was_not_advanced()
    {
        var due = await _data.DueSubscriptionsAsync(_price, 120);
        var runId = await StartAsync();
        await _engine.RunEnqueuedChunksAsync();

        var second = await StartAsync();
        Assert.Equal((0, BillingRunStatus.Completed), ((await RunAsync(second)).DueCount, (await RunAsync(second)).Status));

        // Put one subscription back as if its period had never advanced, and run its chunk's invoicing again.
        await using (var connection = await ConnectAsync())
            await connection.ExecuteAsync("update subscriptions set current_period_start = @start, current_period_end = @end where id = @id",
                new { start = due[0].CurrentPeriodStart, end = due[0].CurrentPeriodEnd, id = due[0].Id });
        await using (var db = _database.NewContext())
        {
            var run = await db.BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId, Ct);
            var chunk = await db.BillingRunChunks.AsNoTracking().SingleAsync(c => c.RunId == runId && c.SubscriptionIds.Contains(due[0].Id), Ct);
            var written = await _engine.InScopeAsync<BillingChunkProcessor, int>(p => p.InvoiceAsync(run, chunk, CancellationToken.None));
            Assert.Equal(0, written);
        }

        await using (var connection = await ConnectAsync())
        {
            Assert.Equal(120, await connection.QuerySingleAsync<int>("select count(*)::int from invoices"));
            Assert.Equal(0, await connection.QuerySingleAsync<int>("select count(*)::int from subscriptions where current_period_end <= @now", new { now = _data.Now }));
        }
        await AssertCountersMatchTheDatabaseAsync(runId);
        await AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task A_chunk_that_meets_a_dead_nodes_claim_looks_again_as_the_claim_lapses_and_then_charges_the_invoice_once()
    {
        await _data.DueSubscriptionsAsync(_price, 3, "pm_ok_");
        var runId = await StartAsync();
        var (_, chunk) = Assert.Single(_engine.Jobs.TakeChunks());
        await using (var db = _database.NewContext())
        {
            var run = await db.BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId, Ct);
            var rows = await db.BillingRunChunks.AsNoTracking().SingleAsync(c => c.RunId == runId && c.Number == chunk, Ct);
            Assert.Equal(3, await _engine.InScopeAsync<BillingChunkProcessor, int>(p => p.InvoiceAsync(run, rows, CancellationToken.None)));
        }
        // What a node that died while charging leaves: one of the chunk's invoices claimed for twenty seconds more.
        var lapse = _engine.Clock.GetUtcNow().AddSeconds(20);
        await using (var connection = await ConnectAsync())
        {
            var claimed = await connection.QueryFirstAsync<Guid>("select id from invoices where billing_run_id = @runId order by id limit 1", new { runId });
            Assert.Single(await ChargeClaims.TryClaimAsync(connection, [claimed], Guid.NewGuid(), _engine.Clock.GetUtcNow(), lapse, Ct));
        }

        var first = await _engine.InScopeAsync<BillingChunkProcessor, ChunkOutcome>(p => p.RunAsync(runId, chunk, CancellationToken.None));
        Assert.Equal(lapse, first.DeferredUntil!.Value, TimeSpan.FromMilliseconds(1));
        Assert.Equal((BillingRunStatus.Running, 2), ((await RunAsync(runId)).Status, _engine.Gateway.SuccessfulChargeCount));

        _engine.Clock.Advance(TimeSpan.FromSeconds(21));
        var second = await _engine.InScopeAsync<BillingChunkProcessor, ChunkOutcome>(p => p.RunAsync(runId, chunk, CancellationToken.None));
        Assert.Null(second.DeferredUntil);
        await AssertCountersMatchTheDatabaseAsync(runId);
        Assert.Equal(3, _engine.Gateway.SuccessfulChargeCount);
    }

    [Fact]
    public async Task Two_nodes_running_the_same_chunks_at_once_invoice_and_charge_each_subscription_once()
    {
        await _data.DueSubscriptionsAsync(_price, 300, "pm_ok_", "pm_slow_", "pm_do_not_honor_");
        await using var secondNode = EngineServices.Create(_database, _engine.Clock, sharedGateway: _engine.Gateway);

        var runId = await StartAsync();
        var chunks = _engine.Jobs.TakeChunks();
        await Task.WhenAll(chunks.SelectMany(c => new[] { _engine, secondNode }.Select(node =>
            Task.Run(() => node.InScopeAsync<BillingConsole.Jobs.BillingChunkJob>(job => job.RunAsync(c.RunId, c.Chunk, CancellationToken.None))))));
        // A node that found some of a chunk's invoices claimed by the other put the chunk back for later; Hangfire would run
        // it then, and it charges what is left.
        await _engine.RunEnqueuedChunksAsync();
        await secondNode.RunEnqueuedChunksAsync();

        await AssertOneCycleInvoicePerSubscriptionPeriodAsync();
        await AssertCountersMatchTheDatabaseAsync(runId);
        await AssertLedgerBalancedAsync();
        var run = await RunAsync(runId);
        Assert.Equal((300, 200, 100), (run.InvoicedCount, run.ChargedCount, run.FailedCount));
        Assert.Equal(200, _engine.Gateway.SuccessfulChargeCount);
        await using var connection = await ConnectAsync();
        Assert.Equal(300, await connection.QuerySingleAsync<int>("select count(*)::int from payment_attempts"));
    }

    [Fact]
    public async Task Trials_convert_scheduled_cancellations_cancel_paused_are_skipped_and_credit_is_used()
    {
        var trial = await _data.SubscriptionAsync(await _data.CustomerAsync(), _price, trial: true);
        var canceling = await _data.SubscriptionAsync(await _data.CustomerAsync(), _price, adjust: s => s.ScheduleCancellation());
        var paused = await _data.SubscriptionAsync(await _data.CustomerAsync(), _price, adjust: s => s.Pause(_data.Now.AddDays(-20)));
        var withCredit = await _data.CustomerAsync(credit: 5m);
        var credited = await _data.SubscriptionAsync(withCredit, _price);

        var runId = await StartAsync();
        await _engine.RunEnqueuedChunksAsync();

        await using var db = _database.NewContext();
        var subscriptions = await db.Subscriptions.AsNoTracking().ToDictionaryAsync(s => s.Id, Ct);
        var invoices = await db.Invoices.AsNoTracking().ToListAsync(Ct);
        Assert.Equal(SubscriptionStatus.Active, subscriptions[trial.Id].Status);
        Assert.Equal(20m, Assert.Single(invoices, i => i.SubscriptionId == trial.Id).Total.Amount);
        Assert.Equal(SubscriptionStatus.Canceled, subscriptions[canceling.Id].Status);
        Assert.Equal(canceling.CurrentPeriodEnd, subscriptions[canceling.Id].CanceledAt);
        Assert.Equal(SubscriptionStatus.Paused, subscriptions[paused.Id].Status);
        Assert.Equal(paused.CurrentPeriodEnd, subscriptions[paused.Id].CurrentPeriodEnd);
        Assert.DoesNotContain(invoices, i => i.SubscriptionId == canceling.Id || i.SubscriptionId == paused.Id);
        var creditInvoice = Assert.Single(invoices, i => i.SubscriptionId == credited.Id);
        Assert.Equal((5m, 20m, InvoiceStatus.Paid), (creditInvoice.CreditApplied.Amount, creditInvoice.Total.Amount, creditInvoice.Status));
        Assert.Equal(15m, creditInvoice.AmountPaid.Amount);
        Assert.Equal(0m, (await db.Customers.AsNoTracking().SingleAsync(c => c.Id == withCredit.Id, Ct)).CreditBalance.Amount);
        await AssertCountersMatchTheDatabaseAsync(runId);
        await AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Only_one_run_runs_at_a_time_and_a_run_with_nothing_due_completes_at_once()
    {
        var empty = await StartAsync();
        Assert.Equal(BillingRunStatus.Completed, (await RunAsync(empty)).Status);

        await _data.DueSubscriptionsAsync(_price, 5);
        var first = await StartAsync();
        var second = await StartAsync();
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Task.Run(() => StartAsync())));

        Assert.Equal(first, second);
        Assert.All(concurrent, id => Assert.Equal(first, id));
        Assert.Single(_engine.Jobs.TakeChunks());
    }

    [Fact]
    public async Task A_chunk_killed_mid_transaction_leaves_nothing_and_its_rerun_completes_the_run()
    {
        await _data.DueSubscriptionsAsync(_price, 150, "pm_ok_", "pm_try_again_later_");
        var runId = await StartAsync();
        var chunks = _engine.Jobs.TakeChunks();
        var database = _database.Name;

        // Hold the chunk's own row: the chunk writes its invoices, lines, ledger entries and periods, then waits here to count itself.
        await using (var blocker = await ConnectAsync())
        {
            await using var hold = await blocker.BeginTransactionAsync(Ct);
            await blocker.ExecuteAsync("select 1 from billing_run_chunks where run_id = @runId and number = 1 for update", new { runId });
            var chunk = Task.Run(() => _engine.InScopeAsync<BillingConsole.Jobs.BillingChunkJob>(job => job.RunAsync(runId, 1, Ct)), Ct);

            // Watched from another connection: pg_stat_activity is a snapshot per transaction, and the blocker's stays open.
            await using var watcher = await ConnectAsync();
            int? pid = null;
            for (var wait = 0; wait < 200 && pid is null && !chunk.IsCompleted; wait++)
            {
                await Task.Delay(50, Ct);
                pid = await watcher.QuerySingleOrDefaultAsync<int?>("""
                    select pid from pg_stat_activity
                    where datname = @database and pid <> pg_backend_pid() and wait_event_type = 'Lock' and query like '%billing_run_chunks%'
                    """, new { database });
            }
            if (pid is null) await chunk;
            Assert.NotNull(pid);
            Assert.True(await watcher.QuerySingleAsync<bool>("select pg_terminate_backend(@pid)", new { pid }));
            await Assert.ThrowsAnyAsync<Exception>(() => chunk);
            await hold.RollbackAsync(Ct);
        }

        await using (var connection = await ConnectAsync())
        {
            Assert.Equal(0, await connection.QuerySingleAsync<int>("select count(*)::int from invoices"));
            Assert.Equal(0, await connection.QuerySingleAsync<int>("select count(*)::int from ledger_entries"));
        }
        Assert.Equal(BillingRunStatus.Failed, (await RunAsync(runId)).Status);

        foreach (var (run, number) in chunks)
            await _engine.InScopeAsync<BillingConsole.Jobs.BillingChunkJob>(job => job.RunAsync(run, number, CancellationToken.None));

        await AssertOneCycleInvoicePerSubscriptionPeriodAsync();
        await AssertCountersMatchTheDatabaseAsync(runId);
        await AssertLedgerBalancedAsync();
        Assert.Equal(150, (await RunAsync(runId)).InvoicedCount);
    }

    [Fact]
    public async Task A_run_whose_chunk_jobs_were_lost_is_picked_up_again_once_it_has_stalled()
    {
        await _data.DueSubscriptionsAsync(_price, 150);
        var runId = await StartAsync();
        Assert.Equal(2, _engine.Jobs.TakeChunks().Count); // the node died before Hangfire got these

        Assert.Equal(runId, await StartAsync());
        Assert.Empty(_engine.Jobs.TakeChunks());

        _engine.Clock.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(runId, await StartAsync());
        Assert.Equal([1, 2], _engine.Jobs.TakeChunks().Select(c => c.Chunk));
        await _engine.InScopeAsync<BillingConsole.Jobs.BillingChunkJob>(job => job.RunAsync(runId, 1, Ct));
        await _engine.InScopeAsync<BillingConsole.Jobs.BillingChunkJob>(job => job.RunAsync(runId, 2, Ct));

        await AssertCountersMatchTheDatabaseAsync(runId);
        Assert.Equal(150, (await RunAsync(runId)).InvoicedCount);
        await AssertOneCycleInvoicePerSubscriptionPeriodAsync();
    }
}
