using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Persistence;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// Moves the subscribers of one price to another, at their next renewal or now (docs/catalog.md). The preview counts them
/// and prices the MRR change with the expression MRR is recorded with (<see cref="MrrRecorder.SubscriptionMrrAt"/>);
/// starting keeps that preview and hands the work to a background job. At renewal, the job schedules the change on the
/// subscriptions in batches, each one UPDATE and its own transaction; now, it makes each subscriber's immediate plan change
/// through <see cref="SubscriptionCommands.ChangePlanAsync"/>, which prorates and invoices it. Either way it counts its
/// progress on the migration.
/// </summary>
/// <remarks>
/// A subscriber moves when it renews (trialing, active or past due), its plan changes are not blocked by dunning, and it has
/// no plan change of its own scheduled to another price: the customer's own choice wins over the migration.
/// </remarks>
public sealed class PriceMigrations(
    BillingDbContext db,
    NpgsqlDataSource dataSource,
    IServiceScopeFactory scopes,
    AuditTrail audit,
    TimeProvider clock,
    IBackgroundWork background,
    IValidator<MigratePrice> validator,
    ILogger<PriceMigrations> logger)
{
    /// <summary>Subscriptions scheduled per transaction: a batch holds its rows' locks only briefly against a billing run.</summary>
    public const int BatchSize = 1000;

    private const string Movable = """
        s.price_id = @from and s.status in ('trialing', 'active', 'past_due') and not s.plan_changes_blocked
        and (s.pending_price_id is null or s.pending_price_id = @from)
        """;

    public async Task<PriceMigrationPreview> PreviewAsync(Guid fromPriceId, MigratePrice command, CancellationToken ct)
    {
        await validator.ValidateAndThrowAsync(command, ct);
        var (from, to) = await PricesAsync(fromPriceId, command.ToPriceId!.Value, ct);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var query = new NpgsqlCommand($"""
            select count(*)::int, coalesce(sum(before.mrr), 0), coalesce(sum(after.mrr), 0)
            from subscriptions s
            cross join lateral (select {MrrRecorder.SubscriptionMrrAt("@now")} as mrr from prices p where p.id = s.price_id) before
            cross join lateral (select {MrrRecorder.SubscriptionMrrAt("@now")} as mrr from prices p where p.id = @to) after
            where {Movable}
            """, connection);
        query.Parameters.AddWithValue("from", from.Id);
        query.Parameters.AddWithValue("to", to.Id);
        query.Parameters.AddWithValue("now", clock.GetUtcNow());
        await using var reader = await query.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var (before, after) = (new Money(reader.GetDecimal(1), from.Currency).Rounded(), new Money(reader.GetDecimal(2), from.Currency).Rounded());
        return new PriceMigrationPreview(from.Id, to.Id, reader.GetInt32(0), from.Currency, before.Amount, after.Amount, (after - before).Amount);
    }

    /// <summary>Records the migration with its preview and queues the job that does it.</summary>
    public async Task<PriceMigrationView> StartAsync(Guid fromPriceId, MigratePrice command, Actor actor, string reason, CancellationToken ct)
    {
        var preview = await PreviewAsync(fromPriceId, command, ct);
        var timing = command.When == MigrateWhen.Now ? PriceMigrationTiming.Now : PriceMigrationTiming.AtRenewal;
        var migration = new PriceMigration(preview.FromPriceId, preview.ToPriceId, timing, preview.Subscribers, preview.MrrChange, preview.Currency,
            actor.Name, clock.GetStoredNow());
        db.PriceMigrations.Add(migration);
        var view = PriceMigrationView.From(migration);
        audit.Record(actor, "price.migration_started", "price", fromPriceId, reason, after: new { view, preview });
        await db.SaveChangesAsync(ct);
        background.EnqueuePriceMigration(migration.Id);
        return view;
    }

    public async Task<PriceMigrationView> GetAsync(Guid migrationId, CancellationToken ct) =>
        PriceMigrationView.From(await db.PriceMigrations.AsNoTracking().SingleOrDefaultAsync(m => m.Id == migrationId, ct)
                                ?? throw new ResourceNotFoundException("price migration", migrationId));

    public async Task<IReadOnlyList<PriceMigrationView>> RecentAsync(int count, CancellationToken ct) =>
        [.. (await db.PriceMigrations.AsNoTracking().OrderByDescending(m => m.CreatedAt).Take(count).ToListAsync(ct)).Select(PriceMigrationView.From)];

    /// <summary>The job's work: reentrant, so a rerun after a crash goes on with the subscriptions not moved yet.</summary>
    public async Task RunAsync(Guid migrationId, CancellationToken ct)
    {
        var migration = await db.PriceMigrations.SingleAsync(m => m.Id == migrationId, ct);
        if (migration.Status == PriceMigrationStatus.Completed) return;
        if (migration.Status == PriceMigrationStatus.Queued)
        {
            migration.Start();
            await db.SaveChangesAsync(ct);
        }

        var (moved, skipped) = migration.Timing == PriceMigrationTiming.Now
            ? await MoveNowAsync(migration, ct)
            : (await ScheduleAtRenewalAsync(migration, ct), 0);

        await db.Entry(migration).ReloadAsync(ct);
        migration.Complete(moved, skipped, clock.GetStoredNow());
        audit.Record(Actor.System, "price.migration_completed", "price", migration.FromPriceId,
            migration.Timing == PriceMigrationTiming.Now
                ? $"{moved} subscriptions moved to the new price now, prorated; {skipped} refused."
                : $"{moved} subscriptions move to the new price at their next renewal.",
            after: PriceMigrationView.From(migration));
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Price migration {MigrationId}: {Moved} subscriptions moved onto price {ToPriceId} {Timing}, {Skipped} refused",
            migrationId, moved, migration.ToPriceId, migration.Timing, skipped);
    }

    private async Task<int> ScheduleAtRenewalAsync(PriceMigration migration, CancellationToken ct)
    {
        var moved = migration.Moved;
        int batch;
        do
        {
            batch = await MoveBatchAsync(migration, ct);
            moved += batch;
        } while (batch == BatchSize);
        return moved;
    }

    /// <summary>
    /// Each subscriber changes plan now, in a scope and transaction of its own, as an agent's immediate change would. A change
    /// the engine refuses (its sentence is logged) leaves that subscriber on the old price; the walk goes on past it, and a
    /// rerun tries it again.
    /// </summary>
    private async Task<(int Moved, int Skipped)> MoveNowAsync(PriceMigration migration, CancellationToken ct)
    {
        var (moved, skipped) = (migration.Moved, 0);
        var change = new ChangePlan(migration.ToPriceId, null, ProrationBehavior.Immediate.ToSnakeCase(), null);
        var after = Guid.Empty;
        while (true)
        {
            var batch = await NextSubscribersAsync(migration.FromPriceId, after, ct);
            foreach (var subscriptionId in batch)
            {
                await using var scope = scopes.CreateAsyncScope();
                try
                {
                    await scope.ServiceProvider.GetRequiredService<SubscriptionCommands>()
                        .ChangePlanAsync(subscriptionId, change, Actor.System, $"Price migration {migration.Id}", ct);
                    moved++;
                }
                catch (Exception e) when (e is DomainRuleException or IllegalTransitionException or DbUpdateConcurrencyException)
                {
                    skipped++;
                    logger.LogWarning("Price migration {MigrationId} left subscription {SubscriptionId} on its price: {Reason}", migration.Id, subscriptionId, e.Message);
                }
            }
            await CountAsync(migration.Id, moved, skipped, ct);
            if (batch.Count < BatchSize) return (moved, skipped);
            after = batch[^1];
        }
    }

    /// <summary>The next subscribers to move now, in id order after <paramref name="after"/>.</summary>
    private async Task<List<Guid>> NextSubscribersAsync(Guid fromPriceId, Guid after, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var query = new NpgsqlCommand($"select s.id from subscriptions s where {Movable} and s.id > @after order by s.id limit @size", connection);
        query.Parameters.AddWithValue("from", fromPriceId);
        query.Parameters.AddWithValue("after", after);
        query.Parameters.AddWithValue("size", BatchSize);
        var ids = new List<Guid>();
        await using var reader = await query.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetGuid(0));
        return ids;
    }

    private async Task CountAsync(Guid migrationId, int moved, int skipped, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var update = new NpgsqlCommand("update price_migrations set moved = @moved, skipped = @skipped where id = @id", connection);
        update.Parameters.AddWithValue("moved", moved);
        update.Parameters.AddWithValue("skipped", skipped);
        update.Parameters.AddWithValue("id", migrationId);
        await update.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Schedules the next batch onto the new price and counts it on the migration, in one transaction.</summary>
    private async Task<int> MoveBatchAsync(PriceMigration migration, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var move = new NpgsqlCommand($"""
            with batch as (
                select s.id from subscriptions s where {Movable} order by s.id limit @size for update),
            moved as (
                update subscriptions s set pending_price_id = @to, pending_quantity = null
                from batch where s.id = batch.id returning 1)
            update price_migrations set moved = moved + (select count(*) from moved) where id = @migration
            returning (select count(*)::int from moved)
            """, connection, transaction);
        move.Parameters.AddWithValue("from", migration.FromPriceId);
        move.Parameters.AddWithValue("to", migration.ToPriceId);
        move.Parameters.AddWithValue("size", BatchSize);
        move.Parameters.AddWithValue("migration", migration.Id);
        var count = (int)(await move.ExecuteScalarAsync(ct))!;
        await transaction.CommitAsync(ct);
        return count;
    }

    /// <summary>Both prices exist (404 otherwise); the new one is open to subscribers and in the old one's currency.</summary>
    private async Task<(Price From, Price To)> PricesAsync(Guid fromPriceId, Guid toPriceId, CancellationToken ct)
    {
        var from = await db.Prices.AsNoTracking().SingleOrDefaultAsync(p => p.Id == fromPriceId, ct) ?? throw new ResourceNotFoundException("price", fromPriceId);
        var to = await db.Prices.AsNoTracking().SingleOrDefaultAsync(p => p.Id == toPriceId, ct) ?? throw new ResourceNotFoundException("price", toPriceId);
        if (from.Id == to.Id) throw new DomainRuleException("A price migration moves subscribers to another price.");
        if (!to.Active || !await db.Plans.AnyAsync(p => p.Id == to.PlanId && p.Active, ct))
            throw new DomainRuleException("The price to migrate to is archived: choose a price subscribers can take.");
        if (to.Currency != from.Currency) throw new DomainRuleException($"Subscribers billed in {from.Currency} cannot move to a price in {to.Currency}.");
        return (from, to);
    }
}
