using BillingConsole.Configuration;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine;

/// <summary>The engine's recurring passes, as flags.</summary>
[Flags]
public enum EnginePass
{
    Billing = 1,
    Collection = 2,
    Ladder = 4,
    Retries = 8,
    Emails = 16,
    All = Billing | Collection | Ladder | Retries | Emails,
}

/// <summary>When each pass next has something to do; null where nothing is due.</summary>
public sealed record EngineDue(DateTimeOffset? Billing, DateTimeOffset? Collection, DateTimeOffset? Ladder, DateTimeOffset? Retries, DateTimeOffset? Emails)
{
    /// <summary>The earliest of <paramref name="which"/>'s due instants; null when none of them is due.</summary>
    public DateTimeOffset? Earliest(EnginePass which) =>
        new (EnginePass Pass, DateTimeOffset? At)[] { (EnginePass.Billing, Billing), (EnginePass.Collection, Collection), (EnginePass.Ladder, Ladder),
                (EnginePass.Retries, Retries), (EnginePass.Emails, Emails) }
            .Where(due => which.HasFlag(due.Pass) && due.At is not null).Min(due => due.At);

    /// <summary>The passes of <paramref name="which"/> due by <paramref name="at"/>.</summary>
    public EnginePass DueBy(DateTimeOffset at, EnginePass which) =>
        ((Billing <= at ? EnginePass.Billing : 0) | (Collection <= at ? EnginePass.Collection : 0) | (Ladder <= at ? EnginePass.Ladder : 0)
         | (Retries <= at ? EnginePass.Retries : 0) | (Emails <= at ? EnginePass.Emails : 0)) & which;
}

/// <summary>
/// The engine's recurring passes run in frozen time (<see cref="EngineClock.Enter"/>): a test clock's advance and the demo
/// history move time from instant to instant and, at each, run the passes the jobs would have run by then, for the customers
/// of the frame's clock only.
/// </summary>
public sealed class EnginePasses(
    BillingDbContext db,
    IServiceScopeFactory scopes,
    DunningRetryRunner retries,
    AutoCollector collector,
    TimeProvider clock,
    IOptionsMonitor<BillingOptions> billing)
{
    /// <summary>
    /// The passes of <paramref name="which"/>, in the order the jobs run them, for the clock and at the time
    /// <see cref="EngineClock"/> holds.
    /// </summary>
    public async Task RunAsync(EnginePass which, CancellationToken ct)
    {
        if (which.HasFlag(EnginePass.Billing)) await BillAsync(ct);
        if (which.HasFlag(EnginePass.Collection)) await collector.RunDueAsync(ct);
        if (which.HasFlag(EnginePass.Ladder)) await InScopeAsync<DunningLadder>(ladder => ladder.RunDueAsync(ct));
        if (which.HasFlag(EnginePass.Retries)) await retries.RunDueAsync(ct);
        if (which.HasFlag(EnginePass.Emails)) await InScopeAsync<NotificationDelivery>(delivery => delivery.RunDueAsync(ct));
    }

    /// <summary>A billing run over the frame's customers, its chunks run here rather than as jobs (see <see cref="BillingRunService"/>).</summary>
    public async Task BillAsync(CancellationToken ct)
    {
        // A run row per step would bury the real renewals: one is started only when a period has ended, or one is unfinished.
        var clockId = EngineClock.TestClockId;
        var now = clock.GetUtcNow();
        var billable = await db.Database.SqlQuery<bool>($"""
            select exists (select 1 from subscriptions s join customers c on c.id = s.customer_id
                           where (c.test_clock_id = {clockId} or ({clockId}::uuid is null and c.test_clock_id is null))
                             and s.status in ('trialing', 'active', 'past_due') and s.current_period_end <= {now})
                or exists (select 1 from billing_runs
                           where (test_clock_id = {clockId} or ({clockId}::uuid is null and test_clock_id is null)) and status = 'running') as "Value"
            """).SingleAsync(ct);
        if (!billable) return;
        var runId = await InScopeAsync<BillingRunService, Guid>(runs => runs.StartAsync(Actor.System, RunTrigger(clockId), ct));
        var unfinished = await db.BillingRunChunks.AsNoTracking().Where(c => c.RunId == runId && c.ChargedAt == null)
            .OrderBy(c => c.Number).Select(c => c.Number).ToListAsync(ct);
        foreach (var chunk in unfinished)
            await InScopeAsync<BillingChunkProcessor, ChunkOutcome>(processor => processor.RunAsync(runId, chunk, ct));
    }

    /// <summary>
    /// What falls due next, after <paramref name="now"/>, for the customers of <paramref name="clockId"/> (null: the customers
    /// without a clock), pass by pass: a period's end, a retry, a ladder day or final notice of an open case, an invoice's first
    /// automatic charge, an email tried again.
    /// </summary>
    public async Task<EngineDue> NextDueAsync(Guid? clockId, DateTimeOffset now, CancellationToken ct)
    {
        var policies = await InScopeAsync<DunningService, Domain.Dunning.PoliciesInForce>(dunning => dunning.PoliciesInForceAsync(ct));
        var days = policies.All.SelectMany(p => p.Ladder.Select(s => s.Day).Concat(p.FinalNoticeDay is { } notice ? [notice] : [])).Distinct().ToArray();
        var collectionDelay = TimeSpan.FromMinutes(billing.CurrentValue.AutoCollectionDelayMinutes);
        return await db.Database.SqlQuery<EngineDue>($"""
            with on_clock as (select id from customers where test_clock_id = {clockId} or ({clockId}::uuid is null and test_clock_id is null))
            select
                (select min(s.current_period_end) from subscriptions s
                 where s.customer_id in (select id from on_clock) and s.status in ('trialing', 'active', 'past_due') and s.current_period_end > {now}) as billing,
                (select min(i.issued_at + {collectionDelay}) from invoices i
                 where i.customer_id in (select id from on_clock) and i.status = 'open' and i.attempt_count = 0 and i.amount_due > 0
                   and i.issued_at + {collectionDelay} > {now}) as collection,
                (select min(d.opened_at + make_interval(hours => ladder_day * 24)) from dunning_cases d, unnest({days}) as ladder_day
                 where d.customer_id in (select id from on_clock) and d.status in ('retry_pending', 'awaiting_payment_method')
                   and d.opened_at + make_interval(hours => ladder_day * 24) > {now}) as ladder,
                (select min(d.next_attempt_at) from dunning_cases d
                 where d.customer_id in (select id from on_clock) and d.status = 'retry_pending' and d.next_attempt_at > {now}) as retries,
                (select min(n.next_attempt_at) from notifications n
                 where n.customer_id in (select id from on_clock) and n.status = 'pending' and n.next_attempt_at > {now}) as emails
            """).SingleAsync(ct);
    }

    private static string RunTrigger(Guid? clockId) => clockId is null ? BillingRunTriggers.Schedule : BillingRunTriggers.TestClock;

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
