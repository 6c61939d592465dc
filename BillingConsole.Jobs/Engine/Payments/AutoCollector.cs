using BillingConsole.Configuration;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// Makes the first charge of open invoices that nothing else charges: those issued outside a billing run (a new
/// subscription's first period, an immediate plan change, a resume into a new period) and those a billing run left
/// uncharged (its node died between invoicing and charging). An invoice qualifies once <see cref="BillingOptions.AutoCollectionDelayMinutes"/>
/// have passed since it was issued, if something is due, it was never tried and it is charged automatically (its own
/// collection method, a one-off's, or else its customer's).
/// The charges go through <see cref="PaymentProcessor.ChargeManyAsync"/>, so a failure opens a dunning case as a billing
/// run's does. Two nodes running at once are harmless: the processor's per-invoice lock and its re-read of the attempt count
/// under the lock let only one of them charge an invoice, and the other is refused.
/// </summary>
public sealed class AutoCollector(IServiceScopeFactory scopes, GatewayCircuitBreaker breaker, TimeProvider clock,
    IOptionsMonitor<BillingOptions> options, ILogger<AutoCollector> logger)
{
    /// <summary>Invoices read and charged per round, one charge batch; the job goes on until none is left.</summary>
    public const int InvoicesPerRound = PaymentProcessor.BatchSize;

    /// <summary>Returns how many invoices were handed to the processor.</summary>
    public async Task<int> RunDueAsync(CancellationToken ct)
    {
        var issuedBy = clock.GetUtcNow() - TimeSpan.FromMinutes(options.CurrentValue.AutoCollectionDelayMinutes);
        var after = (IssuedAt: DateTimeOffset.MinValue, Id: Guid.Empty);
        var taken = 0;
        var results = new List<ChargeResult>();
        // While the circuit breaker pauses charging nothing is taken: the invoices wait for the next pass.
        while (!ct.IsCancellationRequested && (await breaker.PeekAsync(ct)).Allowed)
        {
            await using var scope = scopes.CreateAsyncScope();
            var due = await DueAsync(scope.ServiceProvider.GetRequiredService<BillingDbContext>(), issuedBy, after, ct);
            if (due.Count == 0) break;
            results.AddRange(await scope.ServiceProvider.GetRequiredService<PaymentProcessor>()
                .ChargeManyAsync([.. due.Select(d => d.Id)], PaymentTrigger.AutoCollection, Actor.System, ct));
            taken += due.Count;
            after = due[^1];
            if (due.Count < InvoicesPerRound) break;
        }
        if (taken > 0)
            logger.LogInformation("Auto-collection charged {Invoices} invoices issued by {IssuedBy}: {Succeeded} succeeded, {Failed} failed, {Other} unknown, deferred or left to others",
                taken, issuedBy, results.Count(r => r.Status == ChargeStatus.Succeeded), results.Count(r => r.Status == ChargeStatus.Failed),
                results.Count(r => r.Status is not (ChargeStatus.Succeeded or ChargeStatus.Failed)));
        return taken;
    }

    /// <summary>The next chunk of invoices due for their first charge, in (issued_at, id) order after <paramref name="after"/>.</summary>
    private static async Task<List<(DateTimeOffset IssuedAt, Guid Id)>> DueAsync(BillingDbContext db, DateTimeOffset issuedBy,
        (DateTimeOffset IssuedAt, Guid Id) after, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            // Reads along ix_invoices_awaiting_collection (open invoices by issue time) and skips those tried before on the row.
            await using var command = new NpgsqlCommand("""
                select i.issued_at, i.id from invoices i
                where i.status = 'open' and i.attempt_count = 0 and i.issued_at <= $1 and (i.issued_at, i.id) > ($2, $3)
                  and i.amount_due > 0
                  and exists (select 1 from customers c where c.id = i.customer_id and (c.test_clock_id = $5 or ($5::uuid is null and c.test_clock_id is null))
                              and coalesce(i.collection_method, c.collection_method) = 'charge_automatically')
                order by i.issued_at, i.id
                limit $4
                """, (NpgsqlConnection)db.Database.GetDbConnection())
            {
                Parameters = { new() { Value = issuedBy }, new() { Value = after.IssuedAt }, new() { Value = after.Id }, new() { Value = InvoicesPerRound },
                    new() { Value = (object?)EngineClock.TestClockId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid } },
            };
            var due = new List<(DateTimeOffset, Guid)>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) due.Add((reader.GetFieldValue<DateTimeOffset>(0), reader.GetGuid(1)));
            return due;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
