using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BillingConsole.Tests.Engine;

/// <summary>
/// A payment event handler that fails after the outcome is recorded: the failure surfaces to the caller and in the log, the
/// other handlers (dunning) still run, and a failed invoice left without its dunning case gets one from the reconciliation job.
/// </summary>
public sealed class PaymentEventFailureTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;
    private readonly FailingPaymentEvents _failing = new();
    private readonly ListLogger<PaymentEventsNotifier> _log = new();

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("payment_events");
        _engine = EngineServices.Create(_database, services: services =>
        {
            services.AddSingleton<IPaymentEvents>(_failing);
            services.AddSingleton<ILogger<PaymentEventsNotifier>>(_log);
        });
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_failing_handler_surfaces_after_the_decline_is_recorded_and_dunning_still_opens_the_case()
    {
        var (invoiceId, _) = await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_");

        var thrown = await Assert.ThrowsAsync<PaymentEventsFailedException>(() =>
            _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.Manual, Actor.System, Ct)));

        Assert.Equal([invoiceId], thrown.InvoiceIds);
        Assert.Same(FailingPaymentEvents.Failure, thrown.InnerException);
        await using var db = _database.NewContext();
        var attempt = await db.PaymentAttempts.AsNoTracking().SingleAsync(a => a.InvoiceId == invoiceId, Ct);
        Assert.Equal((PaymentAttemptStatus.Failed, DeclineCodes.InsufficientFunds), (attempt.Status, attempt.DeclineCode));
        Assert.Equal(InvoiceStatus.Open, (await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId, Ct)).Status);
        Assert.True(await db.DunningCases.AnyAsync(c => c.InvoiceId == invoiceId, Ct));
        var logged = Assert.Single(_log.Entries, e => e.Level == LogLevel.Error);
        Assert.Equal(nameof(FailingPaymentEvents), logged.Properties["Handler"]);
        Assert.Equal([invoiceId], (Guid[])logged.Properties["InvoiceIds"]!);
    }

    [Fact]
    public async Task In_a_batch_every_outcome_is_recorded_and_told_before_the_failure_is_thrown()
    {
        var first = await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_");
        var second = await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_");
        Guid[] invoiceIds = [first.InvoiceId, second.InvoiceId];

        var thrown = await Assert.ThrowsAsync<PaymentEventsFailedException>(() =>
            _engine.InScopeAsync<PaymentProcessor, IReadOnlyList<ChargeResult>>(p => p.ChargeManyAsync(invoiceIds, PaymentTrigger.BillingRun, Actor.System, Ct)));

        Assert.Equal(invoiceIds.Order(), thrown.InvoiceIds.Order());
        Assert.Same(FailingPaymentEvents.Failure, Assert.Single(thrown.InnerExceptions));
        Assert.Equal(invoiceIds.Order(), _failing.Told.Order());
        await using var db = _database.NewContext();
        Assert.Equal(2, await db.PaymentAttempts.CountAsync(a => invoiceIds.Contains(a.InvoiceId) && a.Status == PaymentAttemptStatus.Failed, Ct));
        Assert.Equal(2, await db.DunningCases.CountAsync(c => invoiceIds.Contains(c.InvoiceId), Ct));
    }

    [Fact]
    public async Task The_reconciliation_job_opens_the_case_a_failed_handler_left_unopened()
    {
        var (invoiceId, _) = await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_");
        await Assert.ThrowsAsync<PaymentEventsFailedException>(() =>
            _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.Manual, Actor.System, Ct)));
        // As if the dunning handler itself had failed: the decline is on record, the case is not.
        await using (var db = _database.NewContext())
            await db.Database.ExecuteSqlInterpolatedAsync($"delete from dunning_cases where invoice_id = {invoiceId}", Ct);

        var first = await _engine.Get<PaymentReconciler>().RunAsync(Ct);
        var second = await _engine.Get<PaymentReconciler>().RunAsync(Ct);

        Assert.Equal(new ReconciliationSummary(0, 0, 0, 0, CasesOpened: 1), first);
        Assert.Equal(new ReconciliationSummary(0, 0, 0, 0), second);
        await using var check = _database.NewContext();
        var dunningCase = await check.DunningCases.AsNoTracking().SingleAsync(c => c.InvoiceId == invoiceId, Ct);
        Assert.Equal(DeclineCodes.InsufficientFunds, dunningCase.LastDeclineCode);
    }

    /// <summary>Registered after dunning's handler; fails every time, remembering which invoices it was told of.</summary>
    private sealed class FailingPaymentEvents : IPaymentEvents
    {
        public static readonly InvalidOperationException Failure = new("The notice could not be sent.");

        public List<Guid> Told { get; } = [];

        public Task OnPaymentsFailedAsync(IReadOnlyList<(PaymentAttempt Attempt, Invoice Invoice)> failed, CancellationToken ct)
        {
            lock (Told) Told.AddRange(failed.Select(f => f.Invoice.Id));
            throw Failure;
        }

        public Task OnPaymentsSucceededAsync(IReadOnlyList<(PaymentAttempt Attempt, Invoice Invoice)> succeeded, CancellationToken ct) => throw Failure;
    }
}
