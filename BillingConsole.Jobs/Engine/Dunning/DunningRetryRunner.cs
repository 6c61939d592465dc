using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Engine.Dunning;

/// <summary>
/// Makes the retries that are due. Cases are claimed in chunks with FOR UPDATE SKIP LOCKED and moved to retrying in the same
/// transaction, so two nodes running at once share the work instead of charging a case twice. While the gateway's circuit
/// breaker pauses charging nothing is claimed, and a claimed retry the breaker holds back is postponed, not used up.
/// </summary>
public sealed class DunningRetryRunner(IServiceScopeFactory scopes, GatewayCircuitBreaker breaker, TimeProvider clock)
{
    /// <summary>Due cases claimed per round (one FOR UPDATE SKIP LOCKED read); the runner goes on until fewer are due.</summary>
    public const int CasesPerRound = 50;

    /// <summary>Returns how many retries were started.</summary>
    public async Task<int> RunDueAsync(CancellationToken ct)
    {
        var handled = new List<Guid>();
        while (!ct.IsCancellationRequested && (await breaker.PeekAsync(ct)).Allowed)
        {
            var claimed = await ClaimAsync(handled, ct);
            foreach (var (caseId, invoiceId) in claimed)
            {
                await using var scope = scopes.CreateAsyncScope();
                // Each charge in its own unit of work: the processor and the dunning events share it, and nothing else.
                var result = await scope.ServiceProvider.GetRequiredService<PaymentProcessor>()
                    .ChargeAsync(invoiceId, PaymentTrigger.DunningRetry, Actor.System, ct);
                if (result.Status is ChargeStatus.Busy or ChargeStatus.Refused)
                    await scope.ServiceProvider.GetRequiredService<DunningService>().ReleaseAsync(caseId, result.Status == ChargeStatus.Busy, ct);
                else if (result.Status == ChargeStatus.Deferred)
                    await scope.ServiceProvider.GetRequiredService<DunningService>().PostponeAsync(caseId, result.RetryAt ?? clock.GetUtcNow(), ct);
            }
            handled.AddRange(claimed.Select(c => c.CaseId));
            if (claimed.Count < CasesPerRound) break;
        }
        return handled.Count;
    }

    private async Task<List<(Guid CaseId, Guid InvoiceId)>> ClaimAsync(List<Guid> handled, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
        var now = clock.GetUtcNow();
        var skip = handled.ToArray();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Paused customers are left out here rather than after the claim, so their cases stay untouched.
        var cases = await db.DunningCases.FromSqlInterpolated($"""
            select c.*, c.xmin from dunning_cases c
            where c.status = 'retry_pending' and c.next_attempt_at <= {now} and c.id <> all({skip})
              and not exists (select 1 from customers u where u.id = c.customer_id and u.dunning_paused)
            order by c.next_attempt_at
            limit {CasesPerRound}
            for update of c skip locked
            """).ToListAsync(ct);
        foreach (var dunningCase in cases) dunningCase.StartRetry(now);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return [.. cases.Select(c => (c.Id, c.InvoiceId))];
    }
}
