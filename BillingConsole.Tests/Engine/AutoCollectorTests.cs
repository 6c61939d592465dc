using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Jobs;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine;

/// <summary>
/// The first charge of invoices nothing else charges, on the clock: made once the collection delay has passed, never for a
/// customer sent their invoices, once only with two nodes at work, and into dunning when it fails.
/// </summary>
public sealed class AutoCollectorTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Delay = TimeSpan.FromMinutes(60);

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("auto_collector");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    private Task<int> CollectAsync(EngineServices? node = null) => (node ?? _engine).Get<AutoCollector>().RunDueAsync(Ct);

    private async Task<Invoice> InvoiceAsync(Guid invoiceId)
    {
        await using var db = _database.NewContext();
        return await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId, Ct);
    }

    private async Task<List<PaymentAttempt>> AttemptsAsync(Guid invoiceId)
    {
        await using var db = _database.NewContext();
        return await db.PaymentAttempts.AsNoTracking().Where(a => a.InvoiceId == invoiceId).ToListAsync(Ct);
    }

    private async Task SendInvoicesAsync(Guid customerId, int daysUntilDue)
    {
        await using var db = _database.NewContext();
        var customer = await db.Customers.SingleAsync(c => c.Id == customerId, Ct);
        customer.ChangeCollectionMethod(CollectionMethod.SendInvoice, daysUntilDue);
        await db.SaveChangesAsync(Ct);
    }

    [Fact]
    public async Task An_open_invoice_never_tried_is_charged_once_the_delay_has_passed_and_not_before()
    {
        var (invoiceId, _) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");

        _engine.Clock.Advance(Delay - TimeSpan.FromMinutes(1));
        await CollectAsync();
        Assert.Empty(await AttemptsAsync(invoiceId));

        _engine.Clock.Advance(TimeSpan.FromMinutes(1));
        await CollectAsync();
        var attempt = Assert.Single(await AttemptsAsync(invoiceId));
        Assert.Equal((PaymentAttemptStatus.Succeeded, PaymentTrigger.AutoCollection), (attempt.Status, attempt.Trigger));
        Assert.Equal(InvoiceStatus.Paid, (await InvoiceAsync(invoiceId)).Status);
    }

    [Fact]
    public async Task A_customer_sent_invoices_is_never_charged_and_the_due_date_follows_their_days_until_due()
    {
        var customer = await _data.CustomerAsync("pm_ok_");
        await SendInvoicesAsync(customer.Id, 14);
        var (_, price) = await _data.PlanAsync(20m);
        var created = await _engine.InScopeAsync<SubscriptionCommands, SubscriptionChangeView>(commands =>
            commands.CreateAsync(new CreateSubscription(customer.Id, price.Id, 1, 0), Actor.System, "test", Ct));
        var invoiceId = created.Invoice!.Id!.Value;

        _engine.Clock.Advance(TimeSpan.FromDays(30));
        await CollectAsync();

        var invoice = await InvoiceAsync(invoiceId);
        Assert.Equal((InvoiceStatus.Open, 0), (invoice.Status, invoice.AttemptCount));
        Assert.Equal(TimeSpan.FromDays(14), invoice.DueAt - invoice.IssuedAt);
        Assert.Empty(await AttemptsAsync(invoiceId));
    }

    [Fact]
    public async Task A_failed_first_charge_opens_a_dunning_case_as_a_billing_run_failure_does()
    {
        var (declined, _) = await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_");
        var (noCard, _) = await _engine.OpenInvoiceAsync(_data, tokenPrefix: null!);

        _engine.Clock.Advance(Delay);
        await CollectAsync();

        await using var db = _database.NewContext();
        var cases = await db.DunningCases.AsNoTracking().Where(c => c.InvoiceId == declined || c.InvoiceId == noCard).ToListAsync(Ct);
        Assert.Equal(2, cases.Count);
        Assert.Equal("insufficient_funds", Assert.Single(await AttemptsAsync(declined)).DeclineCode);
        Assert.Equal(DeclineCodes.NoPaymentMethod, Assert.Single(await AttemptsAsync(noCard)).DeclineCode);
    }

    [Fact]
    public async Task Two_nodes_collecting_at_once_charge_each_invoice_once()
    {
        var invoices = new List<Guid>();
        for (var i = 0; i < 30; i++) invoices.Add((await _engine.OpenInvoiceAsync(_data, i % 3 == 0 ? "pm_do_not_honor_" : "pm_slow_")).InvoiceId);
        await using var second = EngineServices.Create(_database, _engine.Clock, _engine.Gateway);

        _engine.Clock.Advance(Delay);
        await Task.WhenAll(CollectAsync(), CollectAsync(second));

        foreach (var invoiceId in invoices) Assert.Single(await AttemptsAsync(invoiceId));
        await using var db = _database.NewContext();
        Assert.Equal(10, await db.DunningCases.CountAsync(c => invoices.Contains(c.InvoiceId), Ct));
        Assert.Equal(20, await db.Invoices.CountAsync(i => invoices.Contains(i.Id) && i.Status == InvoiceStatus.Paid, Ct));
    }

    [Fact]
    public async Task A_billing_run_invoice_left_uncharged_by_a_crash_is_collected_after_the_delay_and_never_charged_twice()
    {
        var (_, price) = await _data.PlanAsync(20m);
        var due = await _data.DueSubscriptionsAsync(price, 3, "pm_ok_");
        var runId = await _engine.InScopeAsync<BillingRunService, Guid>(runs => runs.StartAsync(Actor.System, ct: Ct));
        var (_, chunkNumber) = Assert.Single(_engine.Jobs.TakeChunks());
        await using (var db = _database.NewContext())
        {
            var run = await db.BillingRuns.AsNoTracking().SingleAsync(r => r.Id == runId, Ct);
            var chunk = await db.BillingRunChunks.AsNoTracking().SingleAsync(c => c.RunId == runId && c.Number == chunkNumber, Ct);
            // The node dies after invoicing, before charging.
            await _engine.InScopeAsync<BillingChunkProcessor, int>(processor => processor.InvoiceAsync(run, chunk, Ct));
        }
        List<Guid> invoiceIds;
        await using (var db = _database.NewContext())
            invoiceIds = await db.Invoices.Where(i => i.BillingRunId == runId).Select(i => i.Id).ToListAsync(Ct);
        Assert.Equal(due.Count, invoiceIds.Count);

        await CollectAsync();
        foreach (var invoiceId in invoiceIds) Assert.Empty(await AttemptsAsync(invoiceId));

        _engine.Clock.Advance(Delay);
        await CollectAsync();
        // The chunk, run again after the collection, finds nothing left to charge.
        await _engine.InScopeAsync<BillingChunkJob>(job => job.RunAsync(runId, chunkNumber, Ct));

        foreach (var invoiceId in invoiceIds)
        {
            var attempt = Assert.Single(await AttemptsAsync(invoiceId));
            Assert.Equal((PaymentAttemptStatus.Succeeded, PaymentTrigger.AutoCollection), (attempt.Status, attempt.Trigger));
        }
    }
}
