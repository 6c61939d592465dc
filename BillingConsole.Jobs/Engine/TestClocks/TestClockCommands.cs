using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.TestClocks;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.TestClocks;

/// <param name="CardToken">A sandbox card token: its prefix chooses the outcome of every charge (see <see cref="SandboxGateway"/>).</param>
/// <param name="Quantity">Units of the price the subscription takes.</param>
public sealed record AddTestCustomer(string? Name, string? Email, string? Currency, Guid? PriceId, string? CardToken, int Quantity = 1);

/// <summary>What an advance did: the steps it took (one per due instant) and where the clock stands.</summary>
public sealed record TestClockAdvance(int Steps, DateTimeOffset FrozenTime);

/// <summary>
/// Test clocks: an admin makes one, puts test customers on it and advances it. An advance moves the clock from due instant
/// to due instant (renewals, retries, ladder days, collections) up to the target, and at each runs the engine's own passes
/// (billing run, auto-collection, escalation ladder, dunning retries, email delivery) for the clock's customers as of that
/// instant, through <see cref="EngineClock"/>. Only with the sandbox gateway: a test customer is never charged for real.
/// </summary>
public sealed class TestClockCommands(
    BillingDbContext db,
    IServiceScopeFactory scopes,
    GatewayRouter gateway,
    DunningRetryRunner retries,
    AutoCollector collector,
    AuditTrail audit,
    TimeProvider clock,
    IOptionsMonitor<BillingOptions> billing)
{
    public const string SandboxOnly =
        "Test clocks run only with the sandbox gateway: the gateway mode is Stripe, which would charge real cards. Switch to sandbox on the Billing settings page.";

    public async Task<Guid> CreateAsync(string? name, DateTimeOffset? startTime, Actor actor, CancellationToken ct)
    {
        EnsureSandbox();
        var testClock = new TestClock(name ?? string.Empty, startTime ?? clock.GetUtcNow(), actor.Name, clock.GetUtcNow());
        db.TestClocks.Add(testClock);
        audit.Record(actor, "test_clock.created", "test_clock", testClock.Id, $"Test clock '{testClock.Name}' created at {testClock.FrozenTime:yyyy-MM-dd HH:mm} UTC.");
        await db.SaveChangesAsync(ct);
        return testClock.Id;
    }

    /// <summary>
    /// A test customer on the clock with a sandbox card and a subscription to <see cref="AddTestCustomer.PriceId"/> starting at
    /// the clock's time, made through the same commands as a real one (their validation, first invoice, audit), in one
    /// transaction: input one of them refuses leaves nothing behind.
    /// </summary>
    public async Task<Guid> AddCustomerAsync(Guid clockId, AddTestCustomer command, Actor actor, CancellationToken ct)
    {
        EnsureSandbox();
        if (string.IsNullOrWhiteSpace(command.CardToken) || !SandboxGateway.IsCardTokenPrefix(command.CardToken))
            throw new DomainRuleException(SandboxGateway.CardTokenHint);
        var testClock = await FindAsync(clockId, ct);
        var reason = $"Test customer added on test clock '{testClock.Name}'.";
        using (EngineClock.Enter(testClock.Id, testClock.FrozenTime))
        {
            Guid customerId;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var scopeDb = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
                await using var transaction = await scopeDb.Database.BeginTransactionAsync(ct);
                var customers = scope.ServiceProvider.GetRequiredService<CustomerCommands>();
                customerId = (await customers.CreateAsync(new CreateCustomer(command.Name, command.Email, command.Currency, null, null), actor, reason, ct)).Id;
                await customers.AttachPaymentMethodAsync(customerId,
                    new AttachPaymentMethod(SandboxGateway.GatewayName, command.CardToken, "visa", "4242", 12, testClock.FrozenTime.Year + 3), actor, reason, ct);
                await scope.ServiceProvider.GetRequiredService<SubscriptionCommands>()
                    .CreateAsync(new CreateSubscription(customerId, command.PriceId, command.Quantity, 0), actor, reason, ct);
                await transaction.CommitAsync(ct);
            }
            // Whatever the sign-up made due at once is done now, in the clock's time.
            await RunPassesAsync(ct);
            return customerId;
        }
    }

    /// <summary>Advances the clock to <paramref name="target"/>, running the engine at every due instant on the way.</summary>
    public async Task<TestClockAdvance> AdvanceAsync(Guid clockId, DateTimeOffset target, Actor actor, string reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new DomainRuleException("Give a reason: it goes in the audit log.");
        EnsureSandbox();
        var testClock = await FindAsync(clockId, ct);
        if (target <= testClock.FrozenTime)
            throw new DomainRuleException($"Advance to a time after the clock's: it is at {testClock.FrozenTime:yyyy-MM-dd HH:mm} UTC.");
        var from = testClock.FrozenTime;
        var now = from;
        var steps = 0;
        while (true)
        {
            using (EngineClock.Enter(clockId, now)) await RunPassesAsync(ct);
            if (now >= target) break;
            var next = await NextDueAsync(clockId, now, ct);
            now = next is { } due && due < target ? due : target;
            testClock.MoveTo(now);
            await db.SaveChangesAsync(ct);
            steps++;
        }
        audit.Record(actor, "test_clock.advanced", "test_clock", clockId,
            $"{reason.Trim()} (advanced from {from:yyyy-MM-dd HH:mm} to {target:yyyy-MM-dd HH:mm} UTC in {steps} steps)");
        await db.SaveChangesAsync(ct);
        return new TestClockAdvance(steps, now);
    }

    private void EnsureSandbox()
    {
        if (gateway.Name != SandboxGateway.GatewayName) throw new DomainRuleException(SandboxOnly);
    }

    private async Task<TestClock> FindAsync(Guid clockId, CancellationToken ct) =>
        await db.TestClocks.SingleOrDefaultAsync(c => c.Id == clockId, ct) ?? throw new DomainRuleException("There is no such test clock.");

    /// <summary>The engine's passes, in the order the jobs run them, for the clock and at the time <see cref="EngineClock"/> holds.</summary>
    private async Task RunPassesAsync(CancellationToken ct)
    {
        await BillAsync(ct);
        await collector.RunDueAsync(ct);
        await InScopeAsync<DunningLadder>(ladder => ladder.RunDueAsync(ct));
        await retries.RunDueAsync(ct);
        await InScopeAsync<NotificationDelivery>(delivery => delivery.RunDueAsync(ct));
    }

    /// <summary>A billing run over the clock's customers, its chunks run here rather than as jobs (see <see cref="BillingRunService"/>).</summary>
    private async Task BillAsync(CancellationToken ct)
    {
        // A run row per step would bury the clock's real renewals: one is started only when a period has ended, or one is unfinished.
        var clockId = EngineClock.TestClockId;
        var now = clock.GetUtcNow();
        var billable = await db.Database.SqlQuery<bool>($"""
            select exists (select 1 from subscriptions s join customers c on c.id = s.customer_id
                           where c.test_clock_id = {clockId} and s.status in ('trialing', 'active', 'past_due') and s.current_period_end <= {now})
                or exists (select 1 from billing_runs where test_clock_id = {clockId} and status = 'running') as "Value"
            """).SingleAsync(ct);
        if (!billable) return;
        var runId = await InScopeAsync<BillingRunService, Guid>(runs => runs.StartAsync(Actor.System, BillingRunTriggers.TestClock, ct));
        var unfinished = await db.BillingRunChunks.AsNoTracking().Where(c => c.RunId == runId && c.ChargedAt == null)
            .OrderBy(c => c.Number).Select(c => c.Number).ToListAsync(ct);
        foreach (var chunk in unfinished)
            await InScopeAsync<BillingChunkProcessor, ChunkOutcome>(processor => processor.RunAsync(runId, chunk, ct));
    }

    /// <summary>
    /// The next instant after <paramref name="now"/> at which something is due for the clock's customers: a period's end, a
    /// retry, a ladder day or final notice of an open case, or an invoice's first automatic charge; null when nothing is.
    /// </summary>
    private async Task<DateTimeOffset?> NextDueAsync(Guid clockId, DateTimeOffset now, CancellationToken ct)
    {
        var policies = await InScopeAsync<DunningService, Domain.Dunning.PoliciesInForce>(dunning => dunning.PoliciesInForceAsync(ct));
        var days = policies.All.SelectMany(p => p.Ladder.Select(s => s.Day).Concat(p.FinalNoticeDay is { } notice ? [notice] : [])).Distinct().ToArray();
        var collectionDelay = TimeSpan.FromMinutes(billing.CurrentValue.AutoCollectionDelayMinutes);
        return await db.Database.SqlQuery<DateTimeOffset?>($"""
            with on_clock as (select id from customers where test_clock_id = {clockId})
            select min(t) as "Value" from (
                select min(s.current_period_end) as t from subscriptions s
                where s.customer_id in (select id from on_clock) and s.status in ('trialing', 'active', 'past_due') and s.current_period_end > {now}
                union all
                select min(d.next_attempt_at) from dunning_cases d
                where d.customer_id in (select id from on_clock) and d.status = 'retry_pending' and d.next_attempt_at > {now}
                union all
                select min(d.opened_at + make_interval(hours => ladder_day * 24)) from dunning_cases d, unnest({days}) as ladder_day
                where d.customer_id in (select id from on_clock) and d.status in ('retry_pending', 'awaiting_payment_method')
                  and d.opened_at + make_interval(hours => ladder_day * 24) > {now}
                union all
                select min(i.issued_at + {collectionDelay}) from invoices i
                where i.customer_id in (select id from on_clock) and i.status = 'open' and i.attempt_count = 0 and i.amount_due > 0
                  and i.issued_at + {collectionDelay} > {now}
            ) due
            """).SingleAsync(ct);
    }

    private async Task InScopeAsync<TService>(Func<TService, Task> action) where TService : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        await action(scope.ServiceProvider.GetRequiredService<TService>());
    }

    private async Task<TResult> InScopeAsync<TService, TResult>(Func<TService, Task<TResult>> action) where TService : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<TService>());
    }
}
