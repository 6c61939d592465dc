using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Jobs;

/// <summary>
/// Plan changes made with next_invoice: the proration lines wait in pending_invoice_lines and the next invoice carries them
/// exactly once, whether that is the billing run's renewal, the final invoice of a subscription canceled now, or the
/// final invoice when it ends at the period end.
/// </summary>
public sealed class CarriedProrationTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Agent = new("support@example.test", "support");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;
    private Price _basic = null!;
    private Price _pro = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("carried_proration");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
        (_, _basic) = await _data.PlanAsync(30m);
        (_, _pro) = await _data.PlanAsync(90m);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>Basic at $30, half-way through its period (28 Feb – 30 Mar 2027, 15 of 30 days left), moved to Pro at $90 now.</summary>
    private async Task<(Subscription Subscription, PlanChangeView Change)> ChangeMidPeriodAsync()
    {
        var customer = await _data.CustomerAsync("pm_ok_");
        var subscription = await _data.SubscriptionAsync(customer, _basic, endedAgo: TimeSpan.FromDays(-15));
        var change = await _engine.InScopeAsync<SubscriptionCommands, PlanChangeView>(commands =>
            commands.ChangePlanAsync(subscription.Id, new ChangePlan(_pro.Id, null, "next_invoice", null), Agent, "Upgrade from next month", Ct));
        return (subscription, change);
    }

    private async Task<List<PendingInvoiceLine>> PendingLinesAsync(Guid subscriptionId)
    {
        await using var db = _database.NewContext();
        return await db.PendingInvoiceLines.AsNoTracking().Where(l => l.SubscriptionId == subscriptionId).OrderBy(l => l.Kind).ToListAsync(Ct);
    }

    private async Task<List<Invoice>> InvoicesAsync(Guid subscriptionId)
    {
        await using var db = _database.NewContext();
        return await db.Invoices.AsNoTracking().Include(i => i.Lines).Where(i => i.SubscriptionId == subscriptionId).OrderBy(i => i.CreatedAt).ToListAsync(Ct);
    }

    private async Task RunBillingAsync()
    {
        await _engine.InScopeAsync<BillingRunService, Guid>(runs => runs.StartAsync(Actor.System, BillingRunTriggers.Manual, CancellationToken.None));
        await _engine.RunEnqueuedChunksAsync();
    }

    private async Task AssertLedgerBalancedAsync()
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        Assert.Equal(0, await connection.QuerySingleAsync<int>(
            "select count(*)::int from (select transaction_id from ledger_entries group by transaction_id having sum(debit) <> sum(credit)) u"));
    }

    [Fact]
    public async Task The_change_moves_the_plan_now_invoices_nothing_and_the_next_cycle_invoice_carries_the_lines_once()
    {
        var (subscription, change) = await ChangeMidPeriodAsync();

        Assert.Null(change.Invoice);
        Assert.Equal("next_invoice", change.Quote.Behavior);
        var waiting = await PendingLinesAsync(subscription.Id);
        Assert.Equal([(InvoiceLineKind.ProrationCharge, 45.00m), (InvoiceLineKind.ProrationCredit, -15.00m)],
            waiting.Select(l => (l.Kind, l.Amount.Amount)));
        Assert.All(waiting, l => Assert.Null(l.InvoiceId));
        Assert.Empty(await InvoicesAsync(subscription.Id));
        var upcoming = await _engine.InScopeAsync<SubscriptionCommands, InvoiceView?>(commands => commands.UpcomingInvoiceAsync(subscription.Id, Ct));
        Assert.Equal(90m + 45.00m - 15.00m, upcoming!.Subtotal);

        _engine.Clock.Advance(TimeSpan.FromDays(16));
        await RunBillingAsync();
        await RunBillingAsync();

        var invoice = Assert.Single(await InvoicesAsync(subscription.Id));
        Assert.Equal((InvoiceKind.SubscriptionCycle, upcoming.Subtotal), (invoice.Kind, invoice.Subtotal.Amount));
        Assert.Equal([InvoiceLineKind.Recurring, InvoiceLineKind.ProrationCredit, InvoiceLineKind.ProrationCharge], invoice.Lines.Select(l => l.Kind).Order());
        Assert.Equal(InvoiceStatus.Paid, invoice.Status);
        Assert.All(await PendingLinesAsync(subscription.Id), l => Assert.Equal(invoice.Id, l.InvoiceId));
        await AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Canceling_now_invoices_the_waiting_lines_at_once()
    {
        var (subscription, _) = await ChangeMidPeriodAsync();

        await _engine.InScopeAsync<SubscriptionCommands, SubscriptionView>(commands =>
            commands.CancelAsync(subscription.Id, new CancelSubscription(CancelWhen.Now), Agent, "Customer left", Ct));

        var invoice = Assert.Single(await InvoicesAsync(subscription.Id));
        Assert.Equal((InvoiceKind.PlanChange, InvoiceStatus.Open, 45.00m - 15.00m), (invoice.Kind, invoice.Status, invoice.Subtotal.Amount));
        Assert.All(await PendingLinesAsync(subscription.Id), l => Assert.Equal(invoice.Id, l.InvoiceId));
        await AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task A_subscription_ending_at_the_period_end_gets_a_final_invoice_of_the_waiting_lines_from_the_run()
    {
        var (subscription, _) = await ChangeMidPeriodAsync();
        await _engine.InScopeAsync<SubscriptionCommands, SubscriptionView>(commands =>
            commands.CancelAsync(subscription.Id, new CancelSubscription(CancelWhen.AtPeriodEnd), Agent, "Customer leaves at renewal", Ct));

        _engine.Clock.Advance(TimeSpan.FromDays(16));
        await RunBillingAsync();
        await RunBillingAsync();

        var invoice = Assert.Single(await InvoicesAsync(subscription.Id));
        Assert.Equal((InvoiceKind.PlanChange, InvoiceStatus.Paid, 45.00m - 15.00m), (invoice.Kind, invoice.Status, invoice.Subtotal.Amount));
        Assert.All(await PendingLinesAsync(subscription.Id), l => Assert.Equal(invoice.Id, l.InvoiceId));
        await using var db = _database.NewContext();
        Assert.Equal(SubscriptionStatus.Canceled, (await db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == subscription.Id, Ct)).Status);
        await AssertLedgerBalancedAsync();
    }
}
