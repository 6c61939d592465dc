using System.Collections.Concurrent;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BillingConsole.Engine.Dunning;

/// <summary>
/// Makes the retries that are due. Cases are claimed in rounds with FOR UPDATE SKIP LOCKED and moved to retrying in the same
/// transaction, so two nodes (or two rounds of one node) running at once share the work instead of charging a case twice.
/// A round's invoices are charged as one batch (<see cref="PaymentProcessor.ChargeManyAsync"/>): an invoice whose earlier
/// attempt is still unresolved takes the single path, which reconciles it before any new charge. While the gateway's circuit
/// breaker pauses charging nothing is claimed, and a claimed retry the breaker holds back is postponed, not used up.
/// </summary>
public sealed class DunningRetryRunner(IServiceScopeFactory scopes, GatewayCircuitBreaker breaker, BillingRunTimings timings, TimeProvider clock)
{
    /// <summary>Due cases claimed per round (one FOR UPDATE SKIP LOCKED read): one charge batch.</summary>
    public const int CasesPerRound = PaymentProcessor.BatchSize;

    /// <summary>Rounds in flight at once on a node, so that while one waits on the database or the gateway another has work.</summary>
    public const int RoundsAtOnce = 4;

    /// <summary>Returns how many retries were started.</summary>
    public async Task<int> RunDueAsync(CancellationToken ct)
    {
        // A case handed back without a charge may be due again at once; the pass leaves it to the next one. A charged case is
        // scheduled after the minimum spacing, or closed, so it is not due again now.
        var handedBack = new ConcurrentDictionary<Guid, bool>();
        var started = 0;
        await Task.WhenAll(Enumerable.Range(0, RoundsAtOnce).Select(async _ =>
        {
            while (!ct.IsCancellationRequested && (await breaker.PeekAsync(ct)).Allowed)
            {
                var claimed = await ClaimAsync([.. handedBack.Keys], ct);
                Interlocked.Add(ref started, claimed.Count);
                if (claimed.Count > 0) await RetryAsync(claimed, handedBack, ct);
                if (claimed.Count < CasesPerRound) break;
            }
        }));
        return started;
    }

    private async Task RetryAsync(List<(Guid CaseId, Guid InvoiceId)> claimed, ConcurrentDictionary<Guid, bool> handedBack, CancellationToken ct)
    {
        IReadOnlyList<ChargeResult> results;
        await using (var scope = scopes.CreateAsyncScope())
        {
            // The processor and the dunning events share this unit of work, and nothing else.
            results = await scope.ServiceProvider.GetRequiredService<PaymentProcessor>()
                .ChargeManyAsync([.. claimed.Select(c => c.InvoiceId)], PaymentTrigger.DunningRetry, Actor.System, ct);
        }
        var caseOf = claimed.ToDictionary(c => c.InvoiceId, c => c.CaseId);
        foreach (var result in results.Where(r => r.Status is ChargeStatus.Busy or ChargeStatus.Refused or ChargeStatus.Deferred))
            handedBack[caseOf[result.InvoiceId]] = true;
        var deferred = results.Where(r => r.Status == ChargeStatus.Deferred).ToList();
        if (deferred.Count > 0)
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<DunningService>()
                .PostponeAsync([.. deferred.Select(r => (caseOf[r.InvoiceId], r.RetryAt ?? clock.GetUtcNow()))], ct);
        }
        foreach (var result in results.Where(r => r.Status is ChargeStatus.Busy or ChargeStatus.Refused))
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<DunningService>().ReleaseAsync(caseOf[result.InvoiceId], result.Status == ChargeStatus.Busy, ct);
        }
    }

    private async Task<List<(Guid CaseId, Guid InvoiceId)>> ClaimAsync(Guid[] skip, CancellationToken ct)
    {
        var lap = timings.Start();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Paused customers are left out here rather than after the claim, so their cases stay untouched.
        var cases = await db.DunningCases.FromSqlInterpolated($"""
            select c.*, c.xmin from dunning_cases c
            where c.status = 'retry_pending' and c.next_attempt_at <= {now} and c.id <> all({skip})
              and exists (select 1 from customers u where u.id = c.customer_id and not u.dunning_paused
                          and (u.test_clock_id = {EngineClock.TestClockId} or ({EngineClock.TestClockId}::uuid is null and u.test_clock_id is null)))
            order by c.next_attempt_at
            limit {CasesPerRound}
            for update of c skip locked
            """).AsNoTracking().ToListAsync(ct);
        foreach (var dunningCase in cases) dunningCase.StartRetry(now);
        await scope.ServiceProvider.GetRequiredService<DunningCaseWriter>().SaveRetriesStartedAsync((NpgsqlConnection)db.Database.GetDbConnection(),
            (NpgsqlTransaction)transaction.GetDbTransaction(), cases, ct);
        await transaction.CommitAsync(ct);
        lap.Done(BillingRunPhase.ClaimRetries);
        return [.. cases.Select(c => (c.Id, c.InvoiceId))];
    }
}
