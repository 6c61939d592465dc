using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BillingConsole.Engine.Dunning;

/// <summary>The cases a filter selects for a bulk retry: those waiting for a retry.</summary>
/// <param name="Totals">Amount due per currency.</param>
public sealed record BulkRetrySelection(IReadOnlyList<DunningCaseListRow> Cases, IReadOnlyDictionary<string, decimal> Totals)
{
    public int Count => Cases.Count;
}

/// <param name="Started">False when the same selection was already started today: nothing new was queued.</param>
public sealed record BulkRetryStart(Guid Id, bool Started);

/// <summary>Where a bulk retry stands; <see cref="Done"/> counts the invoices whose charge has finished.</summary>
public sealed record BulkRetryProgress(Guid Id, string RequestedBy, string Reason, DateTimeOffset RequestedAt, DateTimeOffset? FinishedAt,
    int Total, int Done, int Succeeded, int Failed, int Skipped, IReadOnlyDictionary<string, decimal> Recovered)
{
    public bool IsFinished => FinishedAt is not null;
}

/// <summary>
/// Retries many dunning cases at once, as one background job. Each invoice is charged through <see cref="PaymentProcessor"/>
/// (its per-invoice lock and open-invoice check), each item is marked before its charge so a rerun of the job never charges
/// it again, and the selection's idempotency key makes a second start of the same selection the same day a no-op.
/// </summary>
public sealed class BulkRetryService(
    BillingDbContext db,
    DunningQueue queue,
    NpgsqlDataSource dataSource,
    IServiceScopeFactory scopes,
    IBackgroundWork background,
    AuditTrail audit,
    TimeProvider clock)
{
    /// <summary>More than this is not a bulk retry but a policy change: narrow the filter.</summary>
    public const int MaxCases = 2000;

    public async Task<BulkRetrySelection> SelectAsync(DunningQueueFilter filter, CancellationToken ct)
    {
        var cases = new List<DunningCaseListRow>();
        await foreach (var row in queue.StreamAsync(filter, null, false, ct))
        {
            if (row.Status != DunningStatus.RetryPending.ToSnakeCase()) continue;
            cases.Add(row);
            if (cases.Count > MaxCases) break;
        }
        return new BulkRetrySelection(cases,
            cases.GroupBy(c => c.Currency.Trim()).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Sum(c => c.Amount)));
    }

    public async Task<BulkRetryStart> StartAsync(DunningQueueFilter filter, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        var selection = await SelectAsync(filter, ct);
        if (selection.Count == 0) throw new DomainRuleException("No case in this selection is waiting for a retry.");
        if (selection.Count > MaxCases) throw new DomainRuleException($"A bulk retry takes at most {MaxCases:N0} cases: narrow the filter.");
        var now = clock.GetUtcNow();
        var id = DeterministicGuid.For($"bulk-retry:{now:yyyy-MM-dd}:{string.Join(",", selection.Cases.Select(c => c.Id).Order())}");
        var started = await db.InTransactionAsync(async () =>
        {
            var inserted = await db.Database.ExecuteSqlInterpolatedAsync($"""
                insert into bulk_retries (id, requested_by, requested_by_role, reason, requested_at)
                values ({id}, {actor.Name}, {actor.Role}, {reason}, {now}) on conflict (id) do nothing
                """, ct);
            if (inserted == 0) return false;
            db.BulkRetryItems.AddRange(selection.Cases.Select(c => new BulkRetryItem
            {
                BulkRetryId = id, DunningCaseId = c.Id, InvoiceId = c.InvoiceId, Amount = c.Amount, Currency = c.Currency.Trim(),
            }));
            audit.Record(actor, "dunning.bulk_retry", "bulk_retry", id,
                $"{reason} ({selection.Count} cases, {string.Join(", ", selection.Totals.Select(t => $"{t.Value:0.00} {t.Key}"))})");
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);
        if (started) background.EnqueueBulkRetry(id);
        return new BulkRetryStart(id, started);
    }

    /// <summary>
    /// Charges the items not yet taken, one at a time (the gateway's concurrency is the billing run's business). When the
    /// gateway's circuit breaker holds a charge back, the item is put back and the job continues once a trial is due.
    /// </summary>
    public async Task RunAsync(Guid bulkRetryId, CancellationToken ct)
    {
        var bulk = await db.BulkRetries.AsNoTracking().FirstOrDefaultAsync(b => b.Id == bulkRetryId, ct);
        if (bulk is null || bulk.FinishedAt is not null) return;
        var actor = new Actor(bulk.RequestedBy, bulk.RequestedByRole);
        while (await ClaimNextAsync(bulkRetryId, ct) is { } invoiceId)
        {
            await using var scope = scopes.CreateAsyncScope();
            var result = await scope.ServiceProvider.GetRequiredService<PaymentProcessor>().ChargeAsync(invoiceId, PaymentTrigger.BulkRetry, actor, ct);
            if (result.Status == ChargeStatus.Deferred)
            {
                await db.Database.ExecuteSqlInterpolatedAsync(
                    $"update bulk_retry_items set outcome = null where bulk_retry_id = {bulkRetryId} and invoice_id = {invoiceId}", CancellationToken.None);
                background.ScheduleBulkRetry(bulkRetryId, result.RetryAt ?? clock.GetUtcNow());
                return;
            }
            await RecordAsync(bulkRetryId, invoiceId, result, ct);
        }
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"update bulk_retries set finished_at = {clock.GetUtcNow()} where id = {bulkRetryId} and finished_at is null", ct);
    }

    public async Task<BulkRetryProgress?> ProgressAsync(Guid bulkRetryId, CancellationToken ct)
    {
        var bulk = await db.BulkRetries.AsNoTracking().FirstOrDefaultAsync(b => b.Id == bulkRetryId, ct);
        if (bulk is null) return null;
        var items = await db.BulkRetryItems.AsNoTracking().Where(i => i.BulkRetryId == bulkRetryId)
            .Select(i => new { i.Outcome, i.Amount, i.Currency }).ToListAsync(ct);
        int Count(string outcome) => items.Count(i => i.Outcome == outcome);
        var succeeded = items.Where(i => i.Outcome == Succeeded).GroupBy(i => i.Currency.Trim()).ToDictionary(g => g.Key, g => g.Sum(i => i.Amount));
        return new BulkRetryProgress(bulk.Id, bulk.RequestedBy, bulk.Reason, bulk.RequestedAt, bulk.FinishedAt, items.Count,
            items.Count(i => i.Outcome is not null and not Charging), Count(Succeeded), Count(Failed), Count(Skipped), succeeded);
    }

    private const string Charging = "charging", Succeeded = "succeeded", Failed = "failed", Skipped = "skipped";

    /// <summary>Marks the next untaken item as charging, in its own committed statement, and returns its invoice.</summary>
    private async Task<Guid?> ClaimNextAsync(Guid bulkRetryId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            update bulk_retry_items set outcome = 'charging'
            where (bulk_retry_id, dunning_case_id) = (
                select bulk_retry_id, dunning_case_id from bulk_retry_items
                where bulk_retry_id = $1 and outcome is null order by dunning_case_id limit 1 for update skip locked)
            returning invoice_id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = bulkRetryId });
        return await command.ExecuteScalarAsync(ct) as Guid?;
    }

    private async Task RecordAsync(Guid bulkRetryId, Guid invoiceId, ChargeResult result, CancellationToken ct)
    {
        var outcome = result.Status switch
        {
            ChargeStatus.Succeeded => Succeeded,
            ChargeStatus.Failed or ChargeStatus.Unknown => Failed,
            _ => Skipped,
        };
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            update bulk_retry_items set outcome = {outcome}, decline_code = {result.DeclineCode ?? (outcome == Skipped ? result.Status.ToSnakeCase() : null)}
            where bulk_retry_id = {bulkRetryId} and invoice_id = {invoiceId}
            """, ct);
    }
}
