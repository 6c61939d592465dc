using BillingConsole.Domain.Billing;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using BillingConsole.Jobs;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine;

/// <summary>
/// The gateway's circuit breaker against a real database, with the sandbox gateway made to fail as a whole: faults open it,
/// charges held back leave nothing against the customer, a successful trial closes it and what waited is charged once.
/// </summary>
public sealed class GatewayCircuitBreakerTests : IAsyncLifetime
{
    private const int Threshold = 3;
    /// <summary>A 5xx is asked again twice under the same key (Gateway:RetryAttempts) before the charge counts as one fault.</summary>
    private const int CallsPerFailedCharge = 3;
    private static readonly TimeSpan Break = TimeSpan.FromSeconds(60);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;
    private Price _price = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("circuit_breaker");
        _engine = EngineServices.Create(_database, settings: new Dictionary<string, string?>
        {
            ["Gateway:CircuitBreaker:FailureThreshold"] = Threshold.ToString(),
            ["Gateway:CircuitBreaker:BreakSeconds"] = Break.TotalSeconds.ToString(),
            ["Gateway:RetryAttempts"] = (CallsPerFailedCharge - 1).ToString(),
            // One charge at a time, so exactly the threshold's charges reach the failing gateway.
            ["Billing:ChargeConcurrency"] = "1",
        });
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
        (_, _price) = await _data.PlanAsync(20m);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    private static void Report(string line)
    {
        Console.WriteLine($"[circuit breaker] {line}");
        TestContext.Current.TestOutputHelper?.WriteLine(line);
    }

    private Task<GatewayCircuit> CircuitAsync() =>
        _engine.InScopeAsync<BillingConsole.Persistence.BillingDbContext, GatewayCircuit>(db => db.GatewayCircuits.AsNoTracking().SingleAsync(Ct));

    private async Task<T> QueryAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        return await connection.QuerySingleAsync<T>(sql, parameters);
    }

    private Task<int> AttemptsAsync(string status) =>
        QueryAsync<int>("select count(*)::int from payment_attempts where status = @status", new { status });

    private Task RunChunksAsync(IEnumerable<(Guid RunId, int Chunk)> chunks) =>
        Task.WhenAll(chunks.Select(c => _engine.InScopeAsync<BillingChunkJob>(job => job.RunAsync(c.RunId, c.Chunk, CancellationToken.None))));

    [Fact]
    public async Task Gateway_faults_open_it_held_back_charges_leave_no_failure_and_after_a_successful_trial_each_invoice_is_charged_once()
    {
        await _data.DueSubscriptionsAsync(_price, 10, "pm_ok_");
        _engine.Gateway.Outage = SandboxOutage.ServerErrors;

        var runId = await _engine.InScopeAsync<BillingRunService, Guid>(runs => runs.StartAsync(Actor.System, BillingRunTriggers.Manual, CancellationToken.None));
        await _engine.RunEnqueuedChunksAsync();

        var circuit = await CircuitAsync();
        Report($"gateway answering 503: {_engine.Gateway.ChargeCallCount} charge calls ({CallsPerFailedCharge} per charge) for 10 invoices; breaker {circuit.State} with {circuit.RecentFailures} faults, trial at {circuit.RetryAt:HH:mm:ss}");
        Assert.Equal(Threshold * CallsPerFailedCharge, _engine.Gateway.ChargeCallCount);
        Assert.Equal((CircuitState.Open, Threshold, _engine.Clock.GetUtcNow() + Break), (circuit.State, circuit.RecentFailures, circuit.RetryAt));
        Assert.Equal((0, 0, Threshold), (await AttemptsAsync("failed"), await AttemptsAsync("pending"), await AttemptsAsync("unknown")));
        Assert.Equal(7, await QueryAsync<int>("select count(*)::int from invoices where status = 'open' and attempt_count = 0"));
        Assert.Equal(0, await QueryAsync<int>("select count(*)::int from dunning_cases"));
        Assert.Equal(0, await QueryAsync<int>("select count(*)::int from subscriptions where status = 'past_due'"));
        Assert.Equal(1, await QueryAsync<int>("select count(*)::int from audit_log where action = 'gateway.circuit_open'"));
        Assert.Equal("running", await QueryAsync<string>("select status from billing_runs where id = @runId", new { runId }));

        // Still open: the chunk, run again as scheduled, sends nothing and waits again.
        var rescheduled = _engine.Jobs.TakeChunks();
        Assert.Equal([(runId, 1)], rescheduled);
        await RunChunksAsync(rescheduled);
        Assert.Equal(Threshold * CallsPerFailedCharge, _engine.Gateway.ChargeCallCount);

        _engine.Gateway.Outage = SandboxOutage.None;
        _engine.Clock.Advance(Break);
        await RunChunksAsync(_engine.Jobs.TakeChunks());

        circuit = await CircuitAsync();
        var paid = await QueryAsync<int>("select count(*)::int from invoices where status = 'paid'");
        Report($"gateway back, break over: breaker {circuit.State}; {_engine.Gateway.ChargeCallCount} charge calls in all, {_engine.Gateway.SuccessfulChargeCount} moved money, {paid} of 10 invoices paid");
        Assert.Equal(CircuitState.Closed, circuit.State);
        Assert.Equal((10, 10), (paid, _engine.Gateway.SuccessfulChargeCount));
        Assert.Equal(Threshold * CallsPerFailedCharge + 10, _engine.Gateway.ChargeCallCount);
        Assert.Equal(10, await AttemptsAsync("succeeded"));
        Assert.Equal(0, await QueryAsync<int>("select count(*)::int from (select 1 from payment_attempts where status = 'succeeded' group by invoice_id having count(*) > 1) d"));
        Assert.Equal(0, await QueryAsync<int>("select count(*)::int from payment_attempts where status <> 'succeeded'"));
        Assert.Equal(0, await QueryAsync<int>("select count(*)::int from (select transaction_id from ledger_entries group by transaction_id having sum(debit) <> sum(credit)) u"));
        Assert.Equal(0, await QueryAsync<int>("""
            select count(*)::int from invoices i
            where i.amount_due <> (select coalesce(sum(debit - credit), 0) from ledger_entries e where e.invoice_id = i.id and e.account = 'receivable')
            """));
        Assert.Equal(("completed", 10, 0), await QueryAsync<(string, int, int)>("select status, charged_count, failed_count from billing_runs where id = @runId", new { runId }));
        Assert.Equal(1, await QueryAsync<int>("select count(*)::int from audit_log where action = 'gateway.circuit_closed'"));
    }

    [Fact]
    public async Task Declines_never_open_it()
    {
        await _data.DueSubscriptionsAsync(_price, 12, "pm_insufficient_funds_", "pm_do_not_honor_", "pm_stolen_card_");

        await _engine.RunBillingAsync();

        var circuit = await CircuitAsync();
        Report($"12 declined charges (threshold {Threshold}): breaker {circuit.State} with {circuit.RecentFailures} faults; {await AttemptsAsync("failed")} failed attempts");
        Assert.Equal((CircuitState.Closed, 0), (circuit.State, circuit.RecentFailures));
        Assert.Equal((12, 12), (_engine.Gateway.ChargeCallCount, await AttemptsAsync("failed")));
    }

    [Fact]
    public async Task While_open_dunning_retries_are_not_used_up_a_manual_retry_is_refused_and_a_failed_trial_opens_it_again()
    {
        var first = await FailedInvoices.CreateAsync(_engine.Services);
        var second = await FailedInvoices.CreateAsync(_engine.Services);
        var now = _engine.Clock.GetUtcNow();
        await using (var connection = await _database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("update dunning_cases set next_attempt_at = @at where id = @id", new { at = now.AddMinutes(-2), id = first.CaseId });
            await connection.ExecuteAsync("update dunning_cases set next_attempt_at = @at where id = @id", new { at = now.AddMinutes(-1), id = second.CaseId });
        }
        _engine.Gateway.Outage = SandboxOutage.Timeouts;
        await OpenBreakerAsync();
        var sentWhenOpened = _engine.Gateway.ChargeCallCount;
        var attemptsWhenOpened = await QueryAsync<int>("select count(*)::int from payment_attempts");

        var retried = await _engine.Get<DunningRetryRunner>().RunDueAsync(CancellationToken.None);
        var manual = await _engine.InScopeAsync<DunningCommands, ChargeResult>(commands =>
            commands.RetryNowAsync(first.InvoiceId, new Actor("agent@example.test", "support"), "customer called", CancellationToken.None));

        Report($"open: dunning run started {retried} retries; manual retry answered {manual.Status}: \"{manual.Message}\"");
        Assert.Equal(0, retried);
        Assert.Equal(ChargeStatus.Deferred, manual.Status);
        Assert.StartsWith("Charging is paused: the payment gateway is failing", manual.Message);
        Assert.Equal(sentWhenOpened, _engine.Gateway.ChargeCallCount);
        Assert.Equal(attemptsWhenOpened, await QueryAsync<int>("select count(*)::int from payment_attempts"));
        Assert.Equal(0, await QueryAsync<int>("select count(*)::int from audit_log where action = 'dunning.retry_now'"));
        Assert.Equal(2, await QueryAsync<int>("select count(*)::int from dunning_cases where status = 'retry_pending' and retries_made = 0"));

        // The break is over but the gateway still times out: the first retry is the trial, it fails, and the second is
        // postponed to the next trial instead of being used up.
        _engine.Clock.Advance(Break);
        retried = await _engine.Get<DunningRetryRunner>().RunDueAsync(CancellationToken.None);
        var circuit = await CircuitAsync();
        var postponed = await QueryAsync<(string Status, int RetriesMade, DateTimeOffset NextAttemptAt)>(
            "select status, retries_made, next_attempt_at from dunning_cases where id = @id", new { id = second.CaseId });
        Report($"failed trial: breaker {circuit.State} again until {circuit.RetryAt:HH:mm:ss}; second case {postponed.Status}, retries made {postponed.RetriesMade}, next at {postponed.NextAttemptAt:HH:mm:ss}");
        Assert.Equal(2, retried);
        Assert.Equal((CircuitState.Open, _engine.Clock.GetUtcNow() + Break), (circuit.State, circuit.RetryAt));
        Assert.Equal(("retry_pending", 0, circuit.RetryAt!.Value), postponed);
        Assert.Equal(sentWhenOpened + 1, _engine.Gateway.ChargeCallCount);

        _engine.Gateway.Outage = SandboxOutage.None;
        _engine.Clock.Advance(Break);
        retried = await _engine.Get<DunningRetryRunner>().RunDueAsync(CancellationToken.None);
        Assert.Equal(1, retried);
        Assert.Equal(CircuitState.Closed, (await CircuitAsync()).State);
        Assert.Equal("recovered", await QueryAsync<string>("select status from dunning_cases where id = @id", new { id = second.CaseId }));
    }

    [Fact]
    public async Task An_admin_closes_it_by_hand_with_a_reason_that_is_audited()
    {
        var breaker = _engine.Get<GatewayCircuitBreaker>();
        var admin = new Actor("ada@example.test", "admin");
        await Assert.ThrowsAsync<DomainRuleException>(() => breaker.CloseByHandAsync(admin, "nothing to close", Ct));

        _engine.Gateway.Outage = SandboxOutage.ConnectionResets;
        await OpenBreakerAsync();
        await breaker.CloseByHandAsync(admin, "Gateway status page says resolved", Ct);

        Assert.Equal((CircuitState.Closed, 0), ((await CircuitAsync()).State, (await CircuitAsync()).RecentFailures));
        Assert.Equal(("ada@example.test", "Gateway status page says resolved"), await QueryAsync<(string, string)>(
            "select actor, reason from audit_log where action = 'gateway.circuit_closed'"));
    }

    [Fact]
    public async Task A_bulk_retry_held_back_puts_its_item_back_and_runs_again_after_the_break()
    {
        var failed = await FailedInvoices.CreateAsync(_engine.Services);
        _engine.Gateway.Outage = SandboxOutage.ServerErrors;
        await OpenBreakerAsync();
        var agent = new Actor("sam@example.test", "support");

        var bulk = await _engine.InScopeAsync<BulkRetryService, BulkRetryStart>(b => b.StartAsync(new DunningQueueFilter(), agent, "Issuer outage over", Ct));
        await _engine.InScopeAsync<BulkRetryService>(b => b.RunAsync(bulk.Id, Ct));

        var waiting = await _engine.InScopeAsync<BulkRetryService, BulkRetryProgress?>(b => b.ProgressAsync(bulk.Id, Ct));
        Report($"bulk retry while open: {waiting!.Done} of {waiting.Total} done, finished: {waiting.IsFinished}; job queued {_engine.Jobs.BulkRetries.Count} times");
        Assert.Equal((1, 0, false), (waiting.Total, waiting.Done, waiting.IsFinished));
        Assert.Equal([bulk.Id, bulk.Id], _engine.Jobs.BulkRetries);
        Assert.Equal(1, await QueryAsync<int>("select count(*)::int from payment_attempts where invoice_id = @id", new { id = failed.InvoiceId }));

        _engine.Gateway.Outage = SandboxOutage.None;
        _engine.Clock.Advance(Break);
        await _engine.InScopeAsync<BulkRetryService>(b => b.RunAsync(bulk.Id, Ct));

        var done = await _engine.InScopeAsync<BulkRetryService, BulkRetryProgress?>(b => b.ProgressAsync(bulk.Id, Ct));
        Assert.Equal((true, 1), (done!.IsFinished, done.Succeeded));
        Assert.Equal("paid", await QueryAsync<string>("select status from invoices where id = @id", new { id = failed.InvoiceId }));
    }

    /// <summary>Charges fresh invoices one by one until the failing gateway has opened the breaker.</summary>
    private async Task OpenBreakerAsync()
    {
        for (var i = 0; i < Threshold; i++)
        {
            var (invoiceId, _) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");
            var result = await _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.Manual, Actor.System, CancellationToken.None));
            Assert.Equal(ChargeStatus.Unknown, result.Status);
        }
        Assert.Equal(CircuitState.Open, (await CircuitAsync()).State);
    }
}
