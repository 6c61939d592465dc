using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Commands;
using BillingConsole.Jobs;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Jobs;

/// <summary>
/// A price migration end to end: the preview's count and MRR change, the job moving the subscribers in batches, the
/// subscriptions it leaves alone, and the renewal that bills the new price.
/// </summary>
public sealed class PriceMigrationTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("admin@example.test", "admin");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("price_migration");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task The_subscribers_of_a_price_move_in_batches_to_the_new_price_at_their_renewal_as_the_preview_said()
    {
        var (_, old) = await _data.PlanAsync(20m);
        var (_, raised) = await _data.PlanAsync(25m);
        var (_, other) = await _data.PlanAsync(10m);
        // More subscribers than one batch holds, so the job takes two.
        var movers = await _data.DueSubscriptionsAsync(old, PriceMigrations.BatchSize + 1);
        var paused = await _data.SubscriptionAsync(await _data.CustomerAsync(), old, adjust: s => s.Pause(_data.Now.AddDays(-10)));
        var ownChoice = await _data.SubscriptionAsync(await _data.CustomerAsync(), old, adjust: s => s.SchedulePriceChange(other.Id, 1));
        var units = movers.Sum(s => s.Quantity);

        var preview = await _engine.InScopeAsync<PriceMigrations, PriceMigrationPreview>(m => m.PreviewAsync(old.Id, new MigratePrice(raised.Id), Ct));
        Assert.Equal((movers.Count, 20m * units, 25m * units, 5m * units), (preview.Subscribers, preview.MrrBefore, preview.MrrAfter, preview.MrrChange));

        var started = await _engine.InScopeAsync<PriceMigrations, PriceMigrationView>(m => m.StartAsync(old.Id, new MigratePrice(raised.Id), Admin, "price rise", Ct));
        Assert.Equal(("queued", "at_renewal", movers.Count, 0), (started.Status, started.When, started.Expected, started.Moved));
        var job = Assert.Single(_engine.Jobs.PriceMigrations);
        await _engine.InScopeAsync<PriceMigrationJob>(j => j.RunAsync(job, Ct));
        // Reentrant: running it again moves nothing more.
        await _engine.InScopeAsync<PriceMigrationJob>(j => j.RunAsync(job, Ct));

        var done = await _engine.InScopeAsync<PriceMigrations, PriceMigrationView>(m => m.GetAsync(job, Ct));
        Assert.Equal(("completed", movers.Count), (done.Status, done.Moved));
        await using (var db = _database.NewContext())
        {
            var pending = await db.Subscriptions.AsNoTracking().GroupBy(s => s.PendingPriceId).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(Ct);
            Assert.Equal(movers.Count, pending.Single(p => p.Key == raised.Id).Count);
            Assert.Null((await db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == paused.Id, Ct)).PendingPriceId);
            Assert.Equal(other.Id, (await db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == ownChoice.Id, Ct)).PendingPriceId);
            Assert.Equal(["price.migration_completed", "price.migration_started"],
                await db.AuditLog.Where(a => a.EntityId == old.Id.ToString()).Select(a => a.Action).OrderBy(a => a).ToListAsync(Ct));
        }

        // Their renewal bills the new price and leaves them on it.
        await _engine.RunBillingAsync();
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        Assert.Equal(25m * units, await connection.QuerySingleAsync<decimal>(
            "select sum(i.subtotal) from invoices i join subscriptions s on s.id = i.subscription_id where s.price_id = @raised", new { raised = raised.Id }));
        Assert.Equal(movers.Count, await connection.QuerySingleAsync<int>(
            "select count(*)::int from subscriptions where price_id = @raised and pending_price_id is null", new { raised = raised.Id }));
    }

    [Fact]
    public async Task Moving_now_changes_each_subscriber_at_once_with_a_prorated_plan_change_invoice_and_the_ledger_balances()
    {
        var (_, old) = await _data.PlanAsync(20m);
        var (_, raised) = await _data.PlanAsync(30m);
        // Halfway through their periods, which end in 15 days.
        Guid[] subscribers = [(await _data.SubscriptionAsync(await _data.CustomerAsync(), old, endedAgo: TimeSpan.FromDays(-15))).Id,
            (await _data.SubscriptionAsync(await _data.CustomerAsync(), old, quantity: 2, endedAgo: TimeSpan.FromDays(-15))).Id];

        var started = await _engine.InScopeAsync<PriceMigrations, PriceMigrationView>(m =>
            m.StartAsync(old.Id, new MigratePrice(raised.Id, MigrateWhen.Now), Admin, "price rise now", Ct));
        Assert.Equal(("now", 2), (started.When, started.Expected));
        await _engine.InScopeAsync<PriceMigrationJob>(j => j.RunAsync(Assert.Single(_engine.Jobs.PriceMigrations), Ct));

        var done = await _engine.InScopeAsync<PriceMigrations, PriceMigrationView>(m => m.GetAsync(started.Id, Ct));
        Assert.Equal(("completed", 2, 0), (done.Status, done.Moved, done.Skipped));
        await using var db = _database.NewContext();
        var moved = await db.Subscriptions.AsNoTracking().Where(s => subscribers.Contains(s.Id)).ToListAsync(Ct);
        Assert.All(moved, s => Assert.Equal((raised.Id, (Guid?)null), (s.PriceId, s.PendingPriceId)));
        var invoices = await db.Invoices.AsNoTracking().Include(i => i.Lines).Where(i => subscribers.Contains(i.SubscriptionId!.Value)).ToListAsync(Ct);
        Assert.Equal(2, invoices.Count);
        Assert.All(invoices, i => Assert.Equal((InvoiceKind.PlanChange, 2), (i.Kind, i.Lines.Count)));
        // Half a period of the $10 difference per unit: about $5 and $10.
        Assert.Equal([5m, 10m], invoices.OrderBy(i => i.Subtotal.Amount).Select(i => Math.Round(i.Subtotal.Amount)));
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        Assert.Equal(0, await connection.QuerySingleAsync<int>(
            "select count(*)::int from (select 1 from ledger_entries group by transaction_id having sum(debit) <> sum(credit)) u"));
    }

    [Fact]
    public async Task A_migration_to_an_archived_price_or_another_currency_is_refused_and_nothing_is_recorded()
    {
        var (_, old) = await _data.PlanAsync(20m);
        var (_, euros) = await _data.PlanAsync(20m, currency: "EUR");
        var (_, archived) = await _data.PlanAsync(30m);
        await _engine.InScopeAsync<CatalogCommands, PriceView>(c => c.ArchivePriceAsync(archived.Id, Admin, "retired", Ct));

        var refusal = await Assert.ThrowsAsync<DomainRuleException>(() =>
            _engine.InScopeAsync<PriceMigrations, PriceMigrationView>(m => m.StartAsync(old.Id, new MigratePrice(archived.Id), Admin, "move", Ct)));
        Assert.Equal("The price to migrate to is archived: choose a price subscribers can take.", refusal.Message);
        refusal = await Assert.ThrowsAsync<DomainRuleException>(() =>
            _engine.InScopeAsync<PriceMigrations, PriceMigrationView>(m => m.StartAsync(old.Id, new MigratePrice(euros.Id), Admin, "move", Ct)));
        Assert.Equal("Subscribers billed in USD cannot move to a price in EUR.", refusal.Message);
        await using var db = _database.NewContext();
        Assert.Equal(0, await db.PriceMigrations.CountAsync(Ct));
        Assert.Empty(_engine.Jobs.PriceMigrations);
    }
}
