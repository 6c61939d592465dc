using BillingConsole.Domain.Tax;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BillingConsole.Tests.Engine;

public sealed class PaymentProcessorTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;
    private readonly RecordingPaymentEvents _events = new();
    private readonly ListLogger<ChargeSender> _log = new();

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("payments");
        _engine = EngineServices.Create(_database, services: services =>
        {
            services.AddSingleton<IPaymentEvents>(_events);
            services.AddSingleton<ILogger<ChargeSender>>(_log);
        });
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>An open invoice of 20 × quantity issued through the single-invoice path, for a subscription in <paramref name="status"/>.</summary>
    private async Task<(Guid InvoiceId, Guid SubscriptionId)> OpenInvoiceAsync(string? tokenPrefix, Action<Subscription>? adjust = null)
    {
        var (plan, price) = await _data.PlanAsync(20m);
        var customer = await _data.CustomerAsync(tokenPrefix);
        var subscription = await _data.SubscriptionAsync(customer, price, adjust: adjust);
        await using var scope = _engine.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BillingConsole.Persistence.BillingDbContext>();
        var tracked = await db.Customers.SingleAsync(c => c.Id == customer.Id);
        var snapshot = BillableSubscription.From(subscription, BillablePrice.From(plan, price), null);
        var generated = scope.ServiceProvider.GetRequiredService<InvoiceGenerator>().Generate(snapshot, [], tracked.CreditBalance, InvoiceTax.None, _data.Now)!;
        var invoice = await scope.ServiceProvider.GetRequiredService<InvoiceIssuer>().IssueAsync(tracked, generated, null, CancellationToken.None);
        await db.SaveChangesAsync();
        return (invoice.Id, subscription.Id);
    }

    private Task<ChargeResult> ChargeAsync(Guid invoiceId, Actor? actor = null) =>
        _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.Manual, actor ?? Actor.System, CancellationToken.None));

    private async Task<(Invoice Invoice, List<PaymentAttempt> Attempts, Subscription? Subscription)> LoadAsync(Guid invoiceId)
    {
        await using var db = _database.NewContext();
        var invoice = await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId);
        var attempts = await db.PaymentAttempts.AsNoTracking().Where(a => a.InvoiceId == invoiceId).OrderBy(a => a.AttemptNumber).ToListAsync();
        var subscription = await db.Subscriptions.AsNoTracking().SingleOrDefaultAsync(s => s.Id == invoice.SubscriptionId);
        return (invoice, attempts, subscription);
    }

    [Fact]
    public async Task A_success_pays_the_invoice_posts_cash_and_recovers_a_past_due_subscription()
    {
        var (invoiceId, _) = await OpenInvoiceAsync("pm_ok_", s => s.MarkPastDue());

        var result = await ChargeAsync(invoiceId, new Actor("agent@example.test", "support"));

        var (invoice, attempts, subscription) = await LoadAsync(invoiceId);
        Assert.Equal(ChargeStatus.Succeeded, result.Status);
        Assert.Equal(InvoiceStatus.Paid, invoice.Status);
        Assert.Equal(20m, invoice.AmountPaid.Amount);
        var attempt = Assert.Single(attempts);
        Assert.Equal(PaymentAttemptStatus.Succeeded, attempt.Status);
        Assert.Equal(PaymentAttempt.KeyFor(invoiceId, 1), attempt.IdempotencyKey);
        Assert.Equal(SubscriptionStatus.Active, subscription!.Status);
        Assert.Equal(1, invoice.AttemptCount);
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        var cash = await connection.QuerySingleAsync<decimal>(
            "select coalesce(sum(debit), 0) from ledger_entries where invoice_id = @invoiceId and kind = 'payment' and account = 'cash'", new { invoiceId });
        Assert.Equal(20m, cash);
        Assert.Equal(1, await connection.QuerySingleAsync<int>("select count(*)::int from audit_log where entity_id = @id", new { id = invoiceId.ToString() }));
        Assert.Single(_events.Succeeded);
    }

    [Fact]
    public async Task A_charge_that_meets_5xx_answers_is_sent_again_under_its_key_and_succeeds_once_while_a_timeout_is_not_repeated()
    {
        var (blip, _) = await OpenInvoiceAsync("pm_ok_");
        var (outage, _) = await OpenInvoiceAsync("pm_ok_");
        var (late, _) = await OpenInvoiceAsync("pm_timeout_do_not_honor_");

        _engine.Gateway.FailNextCalls(2, SandboxOutage.ServerErrors);
        var recovered = await ChargeAsync(blip);
        var callsForBlip = _engine.Gateway.ChargeCallCount;
        _engine.Gateway.FailNextCalls(10, SandboxOutage.ConnectionResets);
        var unanswered = await ChargeAsync(outage);
        var callsForOutage = _engine.Gateway.ChargeCallCount - callsForBlip;
        _engine.Gateway.FailNextCalls(0, SandboxOutage.None);
        var timedOut = await ChargeAsync(late);
        var callsForTimeout = _engine.Gateway.ChargeCallCount - callsForBlip - callsForOutage;

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"two 503s then an answer: {recovered.Status} after {callsForBlip} calls; resets throughout: {unanswered.Status} after {callsForOutage} calls; a timeout: {timedOut.Status} after {callsForTimeout} call");
        Assert.Equal((ChargeStatus.Succeeded, 3), (recovered.Status, callsForBlip));
        Assert.Equal((ChargeStatus.Unknown, 3), (unanswered.Status, callsForOutage));
        Assert.Equal((ChargeStatus.Unknown, 1), (timedOut.Status, callsForTimeout));
        var (_, attempts, _) = await LoadAsync(blip);
        Assert.Equal(PaymentAttemptStatus.Succeeded, Assert.Single(attempts).Status);
        Assert.Equal(1, _engine.Gateway.SuccessfulChargeCount);
        Assert.Equal(PaymentAttemptStatus.Unknown, Assert.Single((await LoadAsync(outage)).Attempts).Status);
    }

    [Fact]
    public async Task A_charge_the_gateway_never_received_is_sent_again_by_the_reconciliation_under_its_key_and_paid_once()
    {
        var (invoiceId, _) = await OpenInvoiceAsync("pm_ok_");
        _engine.Gateway.FailNextCalls(10, SandboxOutage.ConnectionResets);
        Assert.Equal(ChargeStatus.Unknown, (await ChargeAsync(invoiceId)).Status);
        _engine.Gateway.FailNextCalls(0, SandboxOutage.None);
        var reconciler = _engine.Get<PaymentReconciler>();

        // Within the grace the charge may still be in flight: left alone.
        Assert.Equal(new ReconciliationSummary(0, 0, 0, 0), await reconciler.RunAsync(Ct));
        _engine.Clock.Advance(TimeSpan.FromMinutes(5));
        var passes = await Task.WhenAll(reconciler.RunAsync(Ct), reconciler.RunAsync(Ct));

        TestContext.Current.TestOutputHelper?.WriteLine($"reconciliation after the resets: {passes[0]} and, at once, {passes[1]}");
        Assert.Equal(1, passes.Sum(p => p.Paid));
        var (invoice, attempts, _) = await LoadAsync(invoiceId);
        Assert.Equal(InvoiceStatus.Paid, invoice.Status);
        var attempt = Assert.Single(attempts);
        Assert.Equal((PaymentAttemptStatus.Succeeded, PaymentAttempt.KeyFor(invoiceId, 1)), (attempt.Status, attempt.IdempotencyKey));
        Assert.Equal(1, _engine.Gateway.SuccessfulChargeCount);
        Assert.Equal(new ReconciliationSummary(0, 0, 0, 0), await reconciler.RunAsync(Ct));
    }

    [Fact]
    public async Task A_decline_records_the_code_marks_the_subscription_past_due_and_raises_payment_failed()
    {
        var (invoiceId, _) = await OpenInvoiceAsync("pm_insufficient_funds_");

        var result = await ChargeAsync(invoiceId);

        var (invoice, attempts, subscription) = await LoadAsync(invoiceId);
        Assert.Equal(ChargeStatus.Failed, result.Status);
        Assert.Equal(DeclineCodes.InsufficientFunds, result.DeclineCode);
        Assert.Equal(InvoiceStatus.Open, invoice.Status);
        Assert.Equal(PaymentAttemptStatus.Failed, Assert.Single(attempts).Status);
        Assert.Equal(SubscriptionStatus.PastDue, subscription!.Status);
        var (failedAttempt, failedInvoice) = Assert.Single(_events.Failed);
        Assert.Equal(invoiceId, failedInvoice.Id);
        Assert.Equal(DeclineCodes.InsufficientFunds, failedAttempt.DeclineCode);
    }

    [Fact]
    public async Task A_customer_without_a_card_gets_a_failed_attempt_without_a_gateway_call()
    {
        var (invoiceId, _) = await OpenInvoiceAsync(tokenPrefix: null);

        var result = await ChargeAsync(invoiceId);

        Assert.Equal(ChargeStatus.Failed, result.Status);
        Assert.Equal(DeclineCodes.NoPaymentMethod, result.DeclineCode);
        Assert.Single(_events.Failed);
    }

    [Fact]
    public async Task A_timeout_is_unknown_and_the_next_charge_reconciles_it_without_charging_again()
    {
        var (invoiceId, _) = await OpenInvoiceAsync("pm_timeout_ok_");

        var first = await ChargeAsync(invoiceId);
        var afterFirst = await LoadAsync(invoiceId);
        var second = await ChargeAsync(invoiceId);

        Assert.Equal(ChargeStatus.Unknown, first.Status);
        Assert.Equal(PaymentAttemptStatus.Unknown, Assert.Single(afterFirst.Attempts).Status);
        Assert.Equal(DeclineCodes.GatewayTimeout, afterFirst.Attempts[0].DeclineCode);
        var logged = Assert.Single(_log.Entries, e => e.Level == LogLevel.Error);
        Assert.Contains(DeclineCodes.GatewayTimeout, logged.Message);
        Assert.Equal(DeclineCodes.GatewayTimeout, logged.Properties["ErrorCode"]);

        Assert.Equal(ChargeStatus.Succeeded, second.Status);
        Assert.True(second.Reconciled);
        var (invoice, attempts, _) = await LoadAsync(invoiceId);
        Assert.Equal(InvoiceStatus.Paid, invoice.Status);
        Assert.Equal(PaymentAttemptStatus.Succeeded, Assert.Single(attempts).Status);
        Assert.Equal(1, _engine.Gateway.SuccessfulChargeCount);
    }

    [Fact]
    public async Task A_timeout_that_was_declined_is_reconciled_as_failed_then_a_new_attempt_is_made()
    {
        var (invoiceId, _) = await OpenInvoiceAsync("pm_timeout_do_not_honor_");

        await ChargeAsync(invoiceId);
        await ChargeAsync(invoiceId);

        var (_, attempts, _) = await LoadAsync(invoiceId);
        Assert.Equal([1, 2], attempts.Select(a => a.AttemptNumber));
        Assert.Equal(PaymentAttemptStatus.Failed, attempts[0].Status);
        Assert.Equal(DeclineCodes.DoNotHonor, attempts[0].DeclineCode);
    }

    [Fact]
    public async Task A_pending_attempt_left_by_a_crash_is_sent_again_with_the_same_key()
    {
        var (invoiceId, _) = await OpenInvoiceAsync("pm_ok_");
        await using (var db = _database.NewContext())
        {
            var invoice = await db.Invoices.SingleAsync(i => i.Id == invoiceId, Ct);
            var method = await db.PaymentMethods.SingleAsync(p => p.CustomerId == invoice.CustomerId, Ct);
            invoice.RecordAttempt();
            db.PaymentAttempts.Add(new PaymentAttempt(invoiceId, invoice.CustomerId, method.Id, 1, invoice.AmountDue, "sandbox", PaymentTrigger.BillingRun, _data.Now));
            await db.SaveChangesAsync(Ct);
        }

        var result = await ChargeAsync(invoiceId);

        var (paid, attempts, _) = await LoadAsync(invoiceId);
        Assert.Equal(ChargeStatus.Succeeded, result.Status);
        Assert.Equal(InvoiceStatus.Paid, paid.Status);
        Assert.Equal(PaymentAttemptStatus.Succeeded, Assert.Single(attempts).Status);
    }

    [Fact]
    public async Task A_paid_invoice_is_refused()
    {
        var (invoiceId, _) = await OpenInvoiceAsync("pm_ok_");
        await ChargeAsync(invoiceId);

        var again = await ChargeAsync(invoiceId);

        Assert.Equal(ChargeStatus.Refused, again.Status);
        Assert.Single((await LoadAsync(invoiceId)).Attempts);
    }

    [Fact]
    public async Task Twenty_concurrent_charges_of_one_invoice_charge_it_exactly_once()
    {
        var (invoiceId, _) = await OpenInvoiceAsync("pm_slow_");

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => ChargeAsync(invoiceId))));

        Assert.Single(results, r => r.Status == ChargeStatus.Succeeded);
        Assert.All(results.Where(r => r.Status != ChargeStatus.Succeeded), r => Assert.Contains(r.Status, new[] { ChargeStatus.Busy, ChargeStatus.Refused }));
        var (invoice, attempts, _) = await LoadAsync(invoiceId);
        Assert.Equal(InvoiceStatus.Paid, invoice.Status);
        Assert.Single(attempts);
        Assert.Equal(1, _engine.Gateway.SuccessfulChargeCount);
    }

    [Fact]
    public async Task Charging_many_charges_each_once_and_sends_an_invoice_tried_before_through_the_single_path()
    {
        var (ok, _) = await OpenInvoiceAsync("pm_ok_");
        var (declined, _) = await OpenInvoiceAsync("pm_stolen_card_");
        var (timeout, _) = await OpenInvoiceAsync("pm_timeout_ok_");
        var (paid, _) = await OpenInvoiceAsync("pm_ok_");
        await ChargeAsync(paid);
        var (unknown, _) = await OpenInvoiceAsync("pm_timeout_ok_");
        await ChargeAsync(unknown);

        var results = await _engine.InScopeAsync<PaymentProcessor, IReadOnlyList<ChargeResult>>(p =>
            p.ChargeManyAsync([ok, declined, timeout, paid, unknown], PaymentTrigger.Manual, Actor.System, Ct));

        var byInvoice = results.ToDictionary(r => r.InvoiceId, r => r.Status);
        Assert.Equal(ChargeStatus.Succeeded, byInvoice[ok]);
        Assert.Equal(ChargeStatus.Failed, byInvoice[declined]);
        Assert.Equal(ChargeStatus.Unknown, byInvoice[timeout]);
        Assert.Equal(ChargeStatus.Refused, byInvoice[paid]);
        Assert.Equal(ChargeStatus.Succeeded, byInvoice[unknown]);
        Assert.True(results.Single(r => r.InvoiceId == unknown).Reconciled);
        Assert.Equal(InvoiceStatus.Paid, (await LoadAsync(ok)).Invoice.Status);
        Assert.Equal(PaymentAttemptStatus.Unknown, Assert.Single((await LoadAsync(timeout)).Attempts).Status);
        Assert.Equal(SubscriptionStatus.PastDue, (await LoadAsync(declined)).Subscription!.Status);
        Assert.Equal(4, _engine.Gateway.SuccessfulChargeCount);
        Assert.Equal(2, _events.Succeeded.Count(e => e.Item2.Id == ok || e.Item2.Id == unknown));
    }

    [Fact]
    public async Task A_batch_tells_each_handler_its_declines_in_one_call_and_its_successes_in_another_and_dunning_schedules_a_case_per_decline()
    {
        Guid[] declined =
        [
            (await OpenInvoiceAsync("pm_insufficient_funds_")).InvoiceId,
            (await OpenInvoiceAsync("pm_do_not_honor_")).InvoiceId,
            (await OpenInvoiceAsync("pm_insufficient_funds_")).InvoiceId,
        ];
        Guid[] paid = [(await OpenInvoiceAsync("pm_ok_")).InvoiceId, (await OpenInvoiceAsync("pm_ok_")).InvoiceId];

        await _engine.InScopeAsync<PaymentProcessor, IReadOnlyList<ChargeResult>>(p =>
            p.ChargeManyAsync([.. declined, .. paid], PaymentTrigger.BillingRun, Actor.System, Ct));

        Assert.Equal([3], _events.FailedCalls);
        Assert.Equal([2], _events.SucceededCalls);
        await using var db = _database.NewContext();
        var cases = await db.DunningCases.AsNoTracking().Where(c => declined.Contains(c.InvoiceId)).ToListAsync(Ct);
        Assert.Equal(declined.Order(), cases.Select(c => c.InvoiceId).Order());
        Assert.All(cases, c => Assert.True(c.Status == DunningStatus.RetryPending && c.NextAttemptAt > _data.Now, $"{c.Status} {c.NextAttemptAt}"));
        Assert.Equal([DeclineCodes.DoNotHonor, DeclineCodes.InsufficientFunds, DeclineCodes.InsufficientFunds], cases.Select(c => c.LastDeclineCode).Order());
        var caseIds = cases.Select(c => c.Id.ToString()).ToArray();
        Assert.Equal(3, await db.AuditLog.CountAsync(a => a.Action == "dunning.opened" && caseIds.Contains(a.EntityId), Ct));
        Assert.False(await db.DunningCases.AnyAsync(c => paid.Contains(c.InvoiceId), Ct));
    }

    private sealed class RecordingPaymentEvents : IPaymentEvents
    {
        /// <summary>How many outcomes each call told, in order.</summary>
        public List<int> FailedCalls { get; } = [];
        public List<int> SucceededCalls { get; } = [];

        public List<(PaymentAttempt, Invoice)> Failed { get; } = [];
        public List<(PaymentAttempt, Invoice)> Succeeded { get; } = [];

        public Task OnPaymentsFailedAsync(IReadOnlyList<(PaymentAttempt Attempt, Invoice Invoice)> failed, CancellationToken ct)
        {
            lock (Failed)
            {
                Failed.AddRange(failed);
                FailedCalls.Add(failed.Count);
            }
            return Task.CompletedTask;
        }

        public Task OnPaymentsSucceededAsync(IReadOnlyList<(PaymentAttempt Attempt, Invoice Invoice)> succeeded, CancellationToken ct)
        {
            lock (Succeeded)
            {
                Succeeded.AddRange(succeeded);
                SucceededCalls.Add(succeeded.Count);
            }
            return Task.CompletedTask;
        }
    }
}
