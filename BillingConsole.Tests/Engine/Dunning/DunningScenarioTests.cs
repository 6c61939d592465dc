using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using BillingConsole.Domain.Audit;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Engine.Dunning;

/// <summary>
/// Dunning end to end over a real database: a failed billing-run charge opens a case, the retry runner is run once a day
/// as the fake clock moves on, and every step is checked in the case, invoice, subscription, ledger and audit log.
/// </summary>
public sealed class DunningScenarioTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Agent = new("agent@example.test", "support");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("dunning");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>An open invoice of 20 for a new customer's subscription, charged once by the billing run.</summary>
    private async Task<(Guid InvoiceId, Guid CustomerId, ChargeResult First)> BilledInvoiceAsync(string tokenPrefix)
    {
        var (invoiceId, customerId) = await _engine.OpenInvoiceAsync(_data, tokenPrefix);
        var first = await _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.BillingRun, Actor.System, Ct));
        return (invoiceId, customerId, first);
    }

    private sealed record State(DunningCase? Case, Invoice Invoice, Subscription Subscription, decimal Receivable, decimal Cash, decimal BadDebt,
        List<PaymentAttempt> Attempts, List<string> Audit);

    private async Task<State> LoadAsync(Guid invoiceId)
    {
        await using var db = _database.NewContext();
        var invoice = await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId, Ct);
        var dunningCase = await db.DunningCases.AsNoTracking().Where(c => c.InvoiceId == invoiceId).OrderByDescending(c => c.OpenedAt).FirstOrDefaultAsync(Ct);
        var subscription = await db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == invoice.SubscriptionId, Ct);
        var ledger = await db.LedgerEntries.AsNoTracking().Where(e => e.InvoiceId == invoiceId).ToListAsync(Ct);
        decimal Balance(LedgerAccount account) => ledger.Where(e => e.Account == account).Sum(e => e.Debit - e.Credit);
        var attempts = await db.PaymentAttempts.AsNoTracking().Where(a => a.InvoiceId == invoiceId).OrderBy(a => a.AttemptNumber).ToListAsync(Ct);
        var ids = new[] { invoiceId.ToString(), dunningCase?.Id.ToString() ?? "" };
        var audit = await db.AuditLog.AsNoTracking().Where(a => ids.Contains(a.EntityId)).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync(Ct);
        return new State(dunningCase, invoice, subscription, Balance(LedgerAccount.Receivable), Balance(LedgerAccount.Cash), Balance(LedgerAccount.BadDebt),
            attempts, audit);
    }

    private Task<int> RunRetriesAsync() => _engine.Get<DunningRetryRunner>().RunDueAsync(Ct);

    /// <summary>Moves the clock a day at a time, running the retry runner each day, until a retry is made (at most 30 days).</summary>
    private async Task<int> UntilNextRetryAsync(Guid invoiceId)
    {
        for (var day = 1; day <= 30; day++)
        {
            _engine.Clock.Advance(TimeSpan.FromDays(1));
            if (await RunRetriesAsync() > 0) return day;
            var waiting = await LoadAsync(invoiceId);
            Assert.Equal(DunningStatus.RetryPending, waiting.Case!.Status);
            Assert.True(waiting.Case.NextAttemptAt > _engine.Clock.GetUtcNow());
        }
        throw new InvalidOperationException("No retry within 30 days.");
    }

    private async Task ReplaceCardAsync(Guid customerId, string tokenPrefix)
    {
        await using var db = _database.NewContext();
        var customer = await db.Customers.Include(c => c.PaymentMethods).SingleAsync(c => c.Id == customerId, Ct);
        customer.AttachPaymentMethod("sandbox", tokenPrefix + Guid.NewGuid().ToString("N"), "visa", "4242", 12, 2031, _engine.Clock.GetUtcNow());
        await db.SaveChangesAsync(Ct);
    }

    [Fact]
    public async Task A_soft_decline_is_retried_and_recovers_on_the_third_retry_after_the_card_is_replaced()
    {
        var (invoiceId, customerId, first) = await BilledInvoiceAsync("pm_insufficient_funds_");

        Assert.Equal(ChargeStatus.Failed, first.Status);
        var opened = await LoadAsync(invoiceId);
        Assert.Equal(DunningStatus.RetryPending, opened.Case!.Status);
        Assert.Equal(DeclineCodes.InsufficientFunds, opened.Case.LastDeclineCode);
        Assert.NotNull(opened.Case.NextAttemptAt);
        Assert.NotNull(opened.Case.NextAttemptReason);
        Assert.Equal(1, opened.Case.PolicyVersion);
        Assert.Equal(InvoiceStatus.Open, opened.Invoice.Status);
        Assert.Equal(SubscriptionStatus.PastDue, opened.Subscription.Status);
        Assert.Equal(20m, opened.Receivable);
        Assert.Equal(["dunning.opened"], opened.Audit);

        for (var retry = 1; retry <= 2; retry++)
        {
            await UntilNextRetryAsync(invoiceId);
            var failed = await LoadAsync(invoiceId);
            Assert.Equal(DunningStatus.RetryPending, failed.Case!.Status);
            Assert.Equal(retry, failed.Case.RetriesMade);
            Assert.Equal(retry + 1, failed.Attempts.Count);
            Assert.Equal(PaymentTrigger.DunningRetry, failed.Attempts[^1].Trigger);
            Assert.Equal(PaymentAttemptStatus.Failed, failed.Attempts[^1].Status);
            Assert.True(failed.Case.NextAttemptAt > _engine.Clock.GetUtcNow());
            Assert.Equal(InvoiceStatus.Open, failed.Invoice.Status);
            Assert.Equal(SubscriptionStatus.PastDue, failed.Subscription.Status);
            Assert.Equal(20m, failed.Receivable);
            Assert.Equal(0m, failed.Cash);
            Assert.Equal(opened.Case.Id, failed.Case.Id);
        }

        await ReplaceCardAsync(customerId, "pm_ok_");
        await UntilNextRetryAsync(invoiceId);

        var recovered = await LoadAsync(invoiceId);
        Assert.Equal(DunningStatus.Recovered, recovered.Case!.Status);
        Assert.Equal(3, recovered.Case.RetriesMade);
        Assert.Null(recovered.Case.NextAttemptAt);
        Assert.Equal(4, recovered.Attempts.Count);
        Assert.Single(recovered.Attempts, a => a.Status == PaymentAttemptStatus.Succeeded);
        Assert.Equal(InvoiceStatus.Paid, recovered.Invoice.Status);
        Assert.Equal(SubscriptionStatus.Active, recovered.Subscription.Status);
        Assert.Equal(0m, recovered.Receivable);
        Assert.Equal(20m, recovered.Cash);
        Assert.Equal(["dunning.opened", "dunning.recovered"], recovered.Audit);
    }

    [Fact]
    public async Task A_hard_decline_waits_for_a_new_payment_method_and_is_never_retried()
    {
        var (invoiceId, _, first) = await BilledInvoiceAsync("pm_stolen_card_");

        Assert.Equal(ChargeStatus.Failed, first.Status);
        for (var day = 1; day <= 30; day++)
        {
            _engine.Clock.Advance(TimeSpan.FromDays(1));
            Assert.Equal(0, await RunRetriesAsync());
        }
        var state = await LoadAsync(invoiceId);
        Assert.Equal(DunningStatus.AwaitingPaymentMethod, state.Case!.Status);
        Assert.Equal(DeclineCodes.StolenCard, state.Case.LastDeclineCode);
        Assert.Null(state.Case.NextAttemptAt);
        Assert.Single(state.Attempts);
        Assert.Equal(InvoiceStatus.Open, state.Invoice.Status);
        Assert.Equal(20m, state.Receivable);
    }

    [Fact]
    public async Task An_exhausted_budget_marks_the_invoice_uncollectible_and_writes_it_off()
    {
        await using (var db = _database.NewContext())
        {
            db.DunningPolicies.Add(new DunningPolicyVersion(7, Dunning.Fixed(1, 2) with { AttemptBudget = 2, FinalAction = FinalAction.MarkUncollectible },
                "test", "Two quick retries", _engine.Clock.GetUtcNow()));
            await db.SaveChangesAsync(Ct);
        }
        var (invoiceId, _, _) = await BilledInvoiceAsync("pm_insufficient_funds_");
        Assert.Equal(7, (await LoadAsync(invoiceId)).Case!.PolicyVersion);

        await UntilNextRetryAsync(invoiceId);
        var afterFirst = await LoadAsync(invoiceId);
        Assert.Equal(DunningStatus.RetryPending, afterFirst.Case!.Status);
        _engine.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, await RunRetriesAsync());

        var exhausted = await LoadAsync(invoiceId);
        Assert.Equal(DunningStatus.Exhausted, exhausted.Case!.Status);
        Assert.Equal("mark_uncollectible", exhausted.Case.FinalAction);
        Assert.Equal(2, exhausted.Case.RetriesMade);
        Assert.Equal(InvoiceStatus.Uncollectible, exhausted.Invoice.Status);
        Assert.Equal(0m, exhausted.Receivable);
        Assert.Equal(20m, exhausted.BadDebt);
        Assert.Equal(["dunning.opened", "dunning.final_action"], exhausted.Audit);

        _engine.Clock.Advance(TimeSpan.FromDays(5));
        Assert.Equal(0, await RunRetriesAsync());
        Assert.Equal(3, (await LoadAsync(invoiceId)).Attempts.Count);
    }

    [Fact]
    public async Task Twenty_concurrent_manual_retries_and_the_runner_make_at_most_one_successful_charge()
    {
        var (invoiceId, customerId, _) = await BilledInvoiceAsync("pm_insufficient_funds_");
        await ReplaceCardAsync(customerId, "pm_ok_");
        _engine.Clock.Advance(TimeSpan.FromDays(30));

        var manual = Enumerable.Range(0, 20).Select(i => Task.Run(() => _engine.InScopeAsync<DunningCommands, ChargeResult>(
            c => c.RetryNowAsync(invoiceId, Agent, $"Customer called ({i})", Ct))));
        var runner = Task.Run(RunRetriesAsync);
        var results = await Task.WhenAll(manual);
        await runner;

        var state = await LoadAsync(invoiceId);
        Assert.Single(state.Attempts, a => a.Status == PaymentAttemptStatus.Succeeded);
        Assert.True(results.Count(r => r.Status == ChargeStatus.Succeeded) <= 1);
        Assert.Equal(InvoiceStatus.Paid, state.Invoice.Status);
        Assert.Equal(DunningStatus.Recovered, state.Case!.Status);
        Assert.Equal(20m, state.Cash);
        Assert.Equal(20, state.Audit.Count(a => a == "dunning.retry_now"));
    }

    [Fact]
    public async Task A_retry_that_finds_its_invoice_being_charged_elsewhere_never_ends_the_case_even_past_its_window()
    {
        var (invoiceId, _, _) = await BilledInvoiceAsync("pm_insufficient_funds_");
        _engine.Clock.Advance(TimeSpan.FromDays(30));
        // Another node or agent holds the invoice's charge claim, as a manual retry in flight does.
        await using var other = new Npgsql.NpgsqlConnection(_database.ConnectionString);
        await other.OpenAsync(Ct);
        var now = _engine.Clock.GetUtcNow();
        Assert.Single(await ChargeClaims.TryClaimAsync(other, [invoiceId], Guid.NewGuid(), now, now + new BillingOptions().ChargeClaimLifetime, Ct));

        Assert.Equal(1, await RunRetriesAsync());

        var state = await LoadAsync(invoiceId);
        Assert.Equal(DunningStatus.RetryPending, state.Case!.Status);
        Assert.Equal(_engine.Clock.GetUtcNow() + DunningService.BusyInvoiceDelay, state.Case.NextAttemptAt);
        Assert.Equal(InvoiceStatus.Open, state.Invoice.Status);
        Assert.Single(state.Attempts);
    }

    [Fact]
    public async Task Pausing_dunning_for_a_customer_with_no_open_case_is_refused_with_a_sentence_and_changes_nothing()
    {
        var (invoiceId, customerId, _) = await BilledInvoiceAsync("pm_ok_");
        Assert.Null((await LoadAsync(invoiceId)).Case);

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() =>
            _engine.InScopeAsync<DunningCommands>(c => c.PauseDunningAsync(customerId, Agent, "Disputing the invoice", Ct)));

        Assert.EndsWith("has no open dunning case, so there is no dunning to pause; nothing was changed.", refused.Message);
        await using var db = _database.NewContext();
        Assert.False(await db.Customers.Where(c => c.Id == customerId).Select(c => c.DunningPaused).SingleAsync(Ct));
        Assert.False(await db.AuditLog.AnyAsync(a => a.Action == "dunning.paused" && a.EntityId == customerId.ToString(), Ct));
    }

    [Fact]
    public async Task A_charge_dunning_did_not_make_records_its_decline_on_the_waiting_case_and_keeps_it_waiting()
    {
        var (invoiceId, customerId, _) = await BilledInvoiceAsync("pm_insufficient_funds_");
        var opened = (await LoadAsync(invoiceId)).Case!;
        Assert.Equal((DunningStatus.RetryPending, DeclineCodes.InsufficientFunds), (opened.Status, opened.LastDeclineCode));
        await ReplaceCardAsync(customerId, "pm_do_not_honor_");

        var manual = await _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.Manual, Agent, Ct));

        Assert.Equal((ChargeStatus.Failed, DeclineCodes.DoNotHonor), (manual.Status, manual.DeclineCode));
        var waiting = (await LoadAsync(invoiceId)).Case!;
        Assert.Equal((DunningStatus.RetryPending, DeclineCodes.DoNotHonor, 0), (waiting.Status, waiting.LastDeclineCode, waiting.RetriesMade));
        Assert.NotNull(waiting.NextAttemptAt);
    }

    [Fact]
    public async Task A_paused_customer_is_skipped_until_resumed()
    {
        var (invoiceId, customerId, _) = await BilledInvoiceAsync("pm_insufficient_funds_");
        await _engine.InScopeAsync<DunningCommands>(c => c.PauseDunningAsync(customerId, Agent, "Disputing the invoice", Ct));
        _engine.Clock.Advance(TimeSpan.FromDays(30));
        Assert.Equal(0, await RunRetriesAsync());
        Assert.Single((await LoadAsync(invoiceId)).Attempts);

        await _engine.InScopeAsync<DunningCommands>(c => c.ResumeDunningAsync(customerId, Agent, "Dispute settled", Ct));
        Assert.Equal(1, await RunRetriesAsync());
        Assert.Equal(2, (await LoadAsync(invoiceId)).Attempts.Count);
    }

    [Fact]
    public async Task A_retry_that_timed_out_after_charging_is_reconciled_to_paid_exactly_once_by_two_nodes_at_once()
    {
        var (invoiceId, customerId, _) = await BilledInvoiceAsync("pm_insufficient_funds_");
        await ReplaceCardAsync(customerId, "pm_timeout_ok_");
        await UntilNextRetryAsync(invoiceId);

        var timedOut = await LoadAsync(invoiceId);
        Assert.Equal(DunningStatus.Retrying, timedOut.Case!.Status);
        Assert.Equal(PaymentAttemptStatus.Unknown, timedOut.Attempts[^1].Status);
        Assert.Equal(InvoiceStatus.Open, timedOut.Invoice.Status);
        // Within the grace the charge may still be in flight: left alone.
        Assert.Equal(new ReconciliationSummary(0, 0, 0, 0), await _engine.Get<PaymentReconciler>().RunAsync(Ct));

        _engine.Clock.Advance(TimeSpan.FromMinutes(5));
        await using var otherNode = EngineServices.Create(_database, _engine.Clock, _engine.Gateway);
        var passes = await Task.WhenAll(
            Task.Run(() => _engine.Get<PaymentReconciler>().RunAsync(Ct)),
            Task.Run(() => otherNode.Get<PaymentReconciler>().RunAsync(Ct)));

        Assert.Equal(1, passes.Sum(p => p.Paid));
        Assert.Equal(0, passes.Sum(p => p.NotCharged + p.StillUnknown));
        var paid = await LoadAsync(invoiceId);
        Assert.Equal(InvoiceStatus.Paid, paid.Invoice.Status);
        Assert.Equal(DunningStatus.Recovered, paid.Case!.Status);
        Assert.Equal(SubscriptionStatus.Active, paid.Subscription.Status);
        Assert.Equal([PaymentAttemptStatus.Failed, PaymentAttemptStatus.Succeeded], paid.Attempts.Select(a => a.Status));
        Assert.Equal(20m, paid.Cash);
        Assert.Equal(0m, paid.Receivable);
        Assert.Equal(1, _engine.Gateway.SuccessfulChargeCount);
        Assert.Equal(["dunning.opened", "dunning.recovered"], paid.Audit);
        Assert.Equal(new ReconciliationSummary(0, 0, 0, 0), await _engine.Get<PaymentReconciler>().RunAsync(Ct));
    }

    [Fact]
    public async Task A_retry_that_timed_out_and_was_declined_is_reconciled_to_failed_and_dunning_goes_on()
    {
        var (invoiceId, customerId, _) = await BilledInvoiceAsync("pm_insufficient_funds_");
        await ReplaceCardAsync(customerId, "pm_timeout_do_not_honor_");
        await UntilNextRetryAsync(invoiceId);
        Assert.Equal(DunningStatus.Retrying, (await LoadAsync(invoiceId)).Case!.Status);

        _engine.Clock.Advance(TimeSpan.FromMinutes(5));
        var pass = await _engine.Get<PaymentReconciler>().RunAsync(Ct);

        Assert.Equal(new ReconciliationSummary(0, 1, 0, 0), pass);
        var failed = await LoadAsync(invoiceId);
        Assert.Equal(PaymentAttemptStatus.Failed, failed.Attempts[^1].Status);
        Assert.Equal(DeclineCodes.DoNotHonor, failed.Attempts[^1].DeclineCode);
        Assert.Equal(DunningStatus.RetryPending, failed.Case!.Status);
        Assert.Equal(DeclineCodes.DoNotHonor, failed.Case.LastDeclineCode);
        Assert.Equal(1, failed.Case.RetriesMade);
        Assert.True(failed.Case.NextAttemptAt > _engine.Clock.GetUtcNow());
        Assert.Equal(InvoiceStatus.Open, failed.Invoice.Status);
        Assert.Equal(0m, failed.Cash);

        await ReplaceCardAsync(customerId, "pm_ok_");
        await UntilNextRetryAsync(invoiceId);
        var recovered = await LoadAsync(invoiceId);
        Assert.Equal(DunningStatus.Recovered, recovered.Case!.Status);
        Assert.Equal(3, recovered.Attempts.Count);
        Assert.Single(recovered.Attempts, a => a.Status == PaymentAttemptStatus.Succeeded);
        Assert.Equal(20m, recovered.Cash);
    }

    /// <summary>
    /// A case stuck in retrying: its retry went to a card whose charge timed out (the sandbox decided it behind the timeout),
    /// and it has stayed so for longer than a charge may take.
    /// </summary>
    private async Task<(Guid InvoiceId, Guid CustomerId, Guid CaseId)> StuckCaseAsync(string timeoutTokenPrefix)
    {
        var (invoiceId, customerId, _) = await BilledInvoiceAsync("pm_insufficient_funds_");
        await ReplaceCardAsync(customerId, timeoutTokenPrefix);
        await UntilNextRetryAsync(invoiceId);
        var stuck = await LoadAsync(invoiceId);
        Assert.Equal(DunningStatus.Retrying, stuck.Case!.Status);
        Assert.Equal(PaymentAttemptStatus.Unknown, stuck.Attempts[^1].Status);
        _engine.Clock.Advance(TimeSpan.FromMinutes(5));
        return (invoiceId, customerId, stuck.Case.Id);
    }

    [Fact]
    public async Task A_case_that_is_not_stuck_is_not_reset_and_the_agent_is_told_so()
    {
        var (invoiceId, _, _) = await BilledInvoiceAsync("pm_insufficient_funds_");
        var waiting = await LoadAsync(invoiceId);

        var reset = await _engine.InScopeAsync<DunningCommands, StuckCaseReset>(c => c.ResetStuckCaseAsync(waiting.Case!.Id, Agent, "Looks stuck", Ct));

        Assert.False(reset.Reset);
        Assert.StartsWith("Nothing was reset: the case is not stuck", reset.Message);
        var after = await LoadAsync(invoiceId);
        Assert.Equal((waiting.Case!.Status, waiting.Case.NextAttemptAt), (after.Case!.Status, after.Case.NextAttemptAt));
        Assert.Null(await ResetAuditAsync(waiting.Case.Id));
    }

    private async Task<AuditEntry?> ResetAuditAsync(Guid caseId)
    {
        await using var db = _database.NewContext();
        return await db.AuditLog.AsNoTracking().SingleOrDefaultAsync(a => a.Action == "dunning.reset" && a.EntityId == caseId.ToString(), Ct);
    }

    [Fact]
    public async Task Resetting_a_stuck_case_is_refused_when_the_gateway_says_the_timed_out_retry_succeeded()
    {
        var (invoiceId, _, caseId) = await StuckCaseAsync("pm_timeout_ok_");

        var reset = await _engine.InScopeAsync<DunningCommands, StuckCaseReset>(c => c.ResetStuckCaseAsync(caseId, Agent, "Customer says nothing happened", Ct));

        Assert.False(reset.Reset);
        Assert.Contains("succeeded", reset.Message);
        var state = await LoadAsync(invoiceId);
        Assert.Equal(DunningStatus.Recovered, state.Case!.Status);
        Assert.Equal(InvoiceStatus.Paid, state.Invoice.Status);
        Assert.Equal(2, state.Attempts.Count);
        Assert.Equal(20m, state.Cash);
        Assert.Null(await ResetAuditAsync(caseId));
    }

    [Fact]
    public async Task Resetting_a_stuck_case_is_refused_while_the_gateway_does_not_answer_about_the_retry()
    {
        var (invoiceId, _, caseId) = await StuckCaseAsync("pm_timeout_ok_");
        await using var silent = EngineServices.Create(_database, _engine.Clock,
            services: services => services.AddSingleton<IPaymentGateway>(new UnansweredLookups(_engine.Gateway)));

        var reset = await silent.InScopeAsync<DunningCommands, StuckCaseReset>(c => c.ResetStuckCaseAsync(caseId, Agent, "Customer says nothing happened", Ct));

        Assert.False(reset.Reset);
        Assert.Contains("not confirmed", reset.Message);
        var state = await LoadAsync(invoiceId);
        Assert.Equal(DunningStatus.Retrying, state.Case!.Status);
        Assert.Equal(PaymentAttemptStatus.Unknown, state.Attempts[^1].Status);
        Assert.Equal(0m, state.Cash);
        Assert.Null(await ResetAuditAsync(caseId));
    }

    [Fact]
    public async Task Resetting_a_stuck_case_whose_retry_failed_puts_it_back_in_the_queue_with_a_fresh_attempt_key_and_audits_who_and_why()
    {
        var (invoiceId, customerId, caseId) = await StuckCaseAsync("pm_timeout_do_not_honor_");
        var stuckKey = (await LoadAsync(invoiceId)).Attempts[^1].IdempotencyKey;

        var reset = await _engine.InScopeAsync<DunningCommands, StuckCaseReset>(c => c.ResetStuckCaseAsync(caseId, Agent, "Retry stuck after a gateway outage", Ct));

        Assert.True(reset.Reset);
        Assert.StartsWith("Reset: Its retry has been running since", reset.Message);
        var pending = await LoadAsync(invoiceId);
        Assert.Equal(DunningStatus.RetryPending, pending.Case!.Status);
        Assert.True(pending.Case.NextAttemptAt > _engine.Clock.GetUtcNow());
        Assert.Equal(PaymentAttemptStatus.Failed, pending.Attempts[^1].Status);
        var audit = await ResetAuditAsync(caseId);
        Assert.Equal((Agent.Name, "Retry stuck after a gateway outage"), (audit!.Actor, audit.Reason));

        await ReplaceCardAsync(customerId, "pm_ok_");
        await UntilNextRetryAsync(invoiceId);
        var recovered = await LoadAsync(invoiceId);
        Assert.Equal(DunningStatus.Recovered, recovered.Case!.Status);
        Assert.Equal(3, recovered.Attempts.Count);
        Assert.NotEqual(stuckKey, recovered.Attempts[^1].IdempotencyKey);
        Assert.Equal(PaymentAttempt.KeyFor(invoiceId, 3), recovered.Attempts[^1].IdempotencyKey);
        Assert.Equal(1, _engine.Gateway.SuccessfulChargeCount);
    }

    /// <summary>The sandbox, except that look-ups never come back: a gateway whose status endpoint is down.</summary>
    private sealed class UnansweredLookups(IPaymentGateway inner) : IPaymentGateway
    {
        public string Name => inner.Name;

        public Task<GatewayChargeResult> ChargeAsync(GatewayChargeRequest request, CancellationToken ct) => inner.ChargeAsync(request, ct);

        public Task<GatewayChargeResult?> LookupAsync(GatewayLookupRequest request, CancellationToken ct) =>
            Task.FromResult<GatewayChargeResult?>(GatewayChargeResult.Unknown(TimeSpan.Zero));

        public Task<GatewayRefundResult> RefundAsync(GatewayRefundRequest request, CancellationToken ct) => inner.RefundAsync(request, ct);
    }
}
