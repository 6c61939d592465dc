using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine.Dunning;

/// <summary>Support retries a filtered dunning queue at once: each invoice is charged at most once, however often it is started or run.</summary>
public sealed class BulkRetryTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Agent = new("sam@example.test", "support");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("bulkretry");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Started_twice_and_run_twice_at_once_each_invoice_is_charged_once()
    {
        var (_, price) = await _data.PlanAsync(25m);
        await _data.DueSubscriptionsAsync(price, 8, "pm_insufficient_funds_", "pm_do_not_honor_");
        await _engine.RunBillingAsync();
        var filter = new DunningQueueFilter { DeclineCode = DeclineCodes.InsufficientFunds };

        var selection = await _engine.InScopeAsync<BulkRetryService, BulkRetrySelection>(bulk => bulk.SelectAsync(filter, Ct));
        var first = await _engine.InScopeAsync<BulkRetryService, BulkRetryStart>(bulk => bulk.StartAsync(filter, Agent, "Card issuer outage is over", Ct));
        var second = await _engine.InScopeAsync<BulkRetryService, BulkRetryStart>(bulk => bulk.StartAsync(filter, Agent, "Card issuer outage is over", Ct));

        Assert.Equal(4, selection.Count);
        Assert.Equal(selection.Cases.Sum(c => c.Amount), selection.Totals["USD"]);
        Assert.True(first.Started);
        Assert.False(second.Started);
        Assert.Equal(first.Id, second.Id);
        Assert.Equal([first.Id], _engine.Jobs.BulkRetries);

        // A job retried by hand while the first still runs, on another node: both share the items.
        await Task.WhenAll(
            _engine.InScopeAsync<BulkRetryService>(bulk => bulk.RunAsync(first.Id, Ct)),
            _engine.InScopeAsync<BulkRetryService>(bulk => bulk.RunAsync(first.Id, Ct)));
        await _engine.InScopeAsync<BulkRetryService>(bulk => bulk.RunAsync(first.Id, Ct));

        await using var db = _database.NewContext();
        var bulkAttempts = await db.PaymentAttempts.AsNoTracking().Where(a => a.Trigger == PaymentTrigger.BulkRetry)
            .GroupBy(a => a.InvoiceId).Select(g => g.Count()).ToListAsync(Ct);
        Assert.Equal([1, 1, 1, 1], bulkAttempts);
        var selectedInvoices = selection.Cases.Select(c => c.InvoiceId).ToList();
        Assert.Equal(4, await db.PaymentAttempts.CountAsync(a => a.Trigger == PaymentTrigger.BulkRetry && selectedInvoices.Contains(a.InvoiceId), Ct));
        Assert.Equal(1, await db.AuditLog.CountAsync(a => a.Action == "dunning.bulk_retry" && a.Actor == Agent.Name, Ct));

        var progress = await _engine.InScopeAsync<BulkRetryService, BulkRetryProgress?>(bulk => bulk.ProgressAsync(first.Id, Ct));
        Assert.NotNull(progress);
        Assert.True(progress.IsFinished);
        Assert.Equal((4, 4, 0, 4, 0), (progress.Total, progress.Done, progress.Succeeded, progress.Failed, progress.Skipped));
        Assert.All(await db.DunningCases.AsNoTracking().Where(c => selectedInvoices.Contains(c.InvoiceId)).ToListAsync(Ct),
            c => Assert.Equal(DunningStatus.RetryPending, c.Status));
    }

    [Fact]
    public async Task A_selection_with_nothing_waiting_for_a_retry_starts_nothing()
    {
        var refused = await Assert.ThrowsAsync<BillingConsole.Domain.Common.DomainRuleException>(() =>
            _engine.InScopeAsync<BulkRetryService, BulkRetryStart>(bulk => bulk.StartAsync(new DunningQueueFilter(), Agent, "Nothing to do", Ct)));

        Assert.Contains("waiting for a retry", refused.Message);
        Assert.Empty(_engine.Jobs.BulkRetries);
    }
}
