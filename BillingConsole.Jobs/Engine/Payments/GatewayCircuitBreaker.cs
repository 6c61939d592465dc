using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// Keeps the <see cref="GatewayCircuit"/> of the configured gateway and asks it before every charge.
/// </summary>
/// <remarks>
/// The state is shared by every node in one PostgreSQL row, not kept per node: all nodes charge through the same gateway, so
/// one node's evidence that it is failing should stop the others too (instead of each sending its own threshold of charges
/// into the outage), the Operations page shows the one state wherever it is opened, and an admin's close reaches every node.
/// PostgreSQL rather than Redis because Redis may be away and is never the only record. Each node reads the row at most every
/// <see cref="CircuitBreakerOptions.RefreshMs"/> and writes it only on a change (a fault, a trial, a close), with the row's
/// version checked, so a million successful charges cost no writes and two nodes never both start a trial.
/// </remarks>
public sealed class GatewayCircuitBreaker(
    IServiceScopeFactory scopes,
    IPaymentGateway gateway,
    TimeProvider clock,
    IOptionsMonitor<GatewayOptions> options,
    ILogger<GatewayCircuitBreaker> logger)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    // One reference, so that charges on many threads never see a circuit with another read's time.
    private volatile CachedCircuit? _cached;

    public CircuitRules Rules
    {
        get
        {
            var settings = options.CurrentValue;
            var breaker = settings.CircuitBreaker;
            return new CircuitRules(breaker.FailureThreshold, TimeSpan.FromSeconds(breaker.WindowSeconds), TimeSpan.FromSeconds(breaker.BreakSeconds),
                TimeSpan.FromMilliseconds(settings.ChargeTimeoutMs * 2L));
        }
    }

    /// <summary>The breaker as this node last read it (at most <see cref="CircuitBreakerOptions.RefreshMs"/> old).</summary>
    public async Task<GatewayCircuit> CurrentAsync(CancellationToken ct)
    {
        if (Cached() is { } cached) return cached;
        await _refresh.WaitAsync(ct);
        try
        {
            return Cached() ?? await ReadAsync(ct);
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The breaker as stored now, read fresh (for the Operations page).</summary>
    public async Task<GatewayCircuit> ReadAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        return Remember(await LoadAsync(scope.ServiceProvider.GetRequiredService<BillingDbContext>(), ct));
    }

    /// <summary>
    /// What the breaker would answer now, without taking a trial: refused while charging is paused and no trial is due, so a
    /// caller that would charge can stop before writing anything.
    /// </summary>
    public async Task<ChargePermission> PeekAsync(CancellationToken ct) => (await CurrentAsync(ct)).Ask(clock.GetUtcNow());

    /// <summary>Asks to send one charge now. A due trial is taken in the shared row, so only one node's charge becomes it.</summary>
    public async Task<ChargePermission> AskAsync(CancellationToken ct)
    {
        var permission = await PeekAsync(ct);
        if (!permission.IsTrial) return permission;
        var trial = await ChangeAsync(circuit => circuit.Ask(clock.GetUtcNow()).IsTrial ? CircuitEvent.TrialStarted : null,
            (circuit, _, now) => circuit.StartTrial(now, Rules), ct);
        if (trial is { TrialStartedAt: { } started }) return new ChargePermission(true, TrialStartedAt: started);
        // Another node took the trial first, or closed the breaker: the fresh row says which.
        var fresh = (await CurrentAsync(ct)).Ask(clock.GetUtcNow());
        return fresh.IsTrial ? new ChargePermission(false, clock.GetUtcNow()) : fresh;
    }

    /// <summary>
    /// Tells the breaker how a charge sent under <paramref name="permission"/> ended. Only an unknown outcome is a fault:
    /// a decline is the gateway working. Never throws: the charge's own record matters more than the breaker's.
    /// </summary>
    public async Task RecordAsync(ChargePermission permission, GatewayChargeResult outcome, CancellationToken ct)
    {
        var fault = outcome.Outcome == GatewayOutcome.Unknown;
        var rules = Rules;
        try
        {
            var circuit = await CurrentAsync(ct);
            if (circuit.EventFor(permission, fault, rules, clock.GetUtcNow()) is null) return;
            var description = $"{outcome.DeclineCode}: {outcome.Message}";
            await ChangeAsync(current => current.EventFor(permission, fault, rules, clock.GetUtcNow()), (current, decided, now) =>
            {
                if (decided == CircuitEvent.TrialSucceeded) current.RecordTrialSuccess(now);
                else if (decided == CircuitEvent.TrialFailed) current.RecordTrialFailure(now, rules, description);
                else current.CountFault(now, rules, description);
            }, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The circuit breaker could not record a charge's outcome ({Outcome}); it decides on the next one", outcome.Outcome);
        }
    }

    /// <summary>An admin closes the breaker: charging resumes at once. Audited with the reason.</summary>
    public async Task CloseByHandAsync(Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        await ChangeAsync(circuit => circuit.State == CircuitState.Closed
                ? throw new DomainRuleException("The breaker is already closed: charging is not paused.")
                : CircuitEvent.ClosedByHand,
            (circuit, _, now) => circuit.CloseByHand(now), ct, actor, reason);
    }

    /// <summary>
    /// Reads the row, decides the event on what it holds now, applies it and saves with the row's version checked; a change
    /// saved meanwhile by another node is read and decided again. Null when, on the fresh row, nothing is to change.
    /// </summary>
    private async Task<GatewayCircuit?> ChangeAsync(Func<GatewayCircuit, CircuitEvent?> decide, Action<GatewayCircuit, CircuitEvent, DateTimeOffset> apply,
        CancellationToken ct, Actor? actor = null, string? reason = null)
    {
        for (var tries = 1; ; tries++)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
            var circuit = await LoadAsync(db, ct, tracked: true);
            if (decide(circuit) is not { } decided)
            {
                Remember(circuit);
                return null;
            }
            var before = new { State = circuit.State.ToSnakeCase(), circuit.Since, circuit.RecentFailures, circuit.RetryAt };
            apply(circuit, decided, clock.GetUtcNow());
            var after = new { State = circuit.State.ToSnakeCase(), circuit.Since, circuit.RecentFailures, circuit.RetryAt };
            if (before.State != after.State)
            {
                scope.ServiceProvider.GetRequiredService<AuditTrail>().Record(actor ?? Actor.System, $"gateway.circuit_{after.State}", "gateway_circuit",
                    circuit.Gateway, reason ?? $"{decided.ToSnakeCase()}: {circuit.LastFault}", before, after);
            }
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateConcurrencyException) when (tries < 5)
            {
                continue;
            }
            if (before.State != after.State)
            {
                logger.LogWarning("Gateway circuit breaker for {Gateway}: {From} → {To} ({Event}) with {RecentFailures} recent faults; next trial at {RetryAt}",
                    circuit.Gateway, before.State, after.State, decided.ToSnakeCase(), circuit.RecentFailures, circuit.RetryAt);
            }
            return Remember(circuit);
        }
    }

    private async Task<GatewayCircuit> LoadAsync(BillingDbContext db, CancellationToken ct, bool tracked = false)
    {
        var query = tracked ? db.GatewayCircuits : db.GatewayCircuits.AsNoTracking();
        if (await query.FirstOrDefaultAsync(c => c.Gateway == gateway.Name, ct) is { } found) return found;
        // The first node to need it creates the row; a second one doing the same at once finds it made.
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"insert into gateway_circuits (gateway, state, since, recent_failures) values ({gateway.Name}, 'closed', {clock.GetUtcNow()}, 0) on conflict do nothing", ct);
        return await query.FirstAsync(c => c.Gateway == gateway.Name, ct);
    }

    private GatewayCircuit? Cached() =>
        _cached is { } cached && clock.GetUtcNow() - cached.ReadAt < TimeSpan.FromMilliseconds(options.CurrentValue.CircuitBreaker.RefreshMs)
            ? cached.Circuit
            : null;

    private GatewayCircuit Remember(GatewayCircuit circuit)
    {
        _cached = new CachedCircuit(circuit, clock.GetUtcNow());
        return circuit;
    }

    private sealed record CachedCircuit(GatewayCircuit Circuit, DateTimeOffset ReadAt);
}
