using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Payments;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine.Dunning;

/// <summary>
/// The escalation ladder over a real database, day by day as Kill Bill's overdue tests do: a renewal charged by the billing
/// run declines, and each day the fake clock moves on the ladder pass runs, then the retry runner. The policy retries on
/// days 2, 9 and 21 of a fixed schedule; its ladder notifies on day 10, blocks plan changes on day 14 and marks the invoice
/// uncollectible on day 21.
/// </summary>
public sealed class DunningLadderScenarioTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Agent = new("agent@example.test", "support");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("ladder");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
        await using var db = _database.NewContext();
        db.DunningPolicies.Add(new DunningPolicyVersion(1, Dunning.Fixed(2, 9, 21) with { FinalAction = FinalAction.MarkUncollectible },
            "test", "Retries on days 2, 9 and 21", _engine.Clock.GetUtcNow()));
        await db.SaveChangesAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    private sealed record Renewal(Guid SubscriptionId, Guid CustomerId, Guid UpgradePriceId);

    /// <summary>Due subscriptions renewed by one billing run, each charged to a card starting with its prefix.</summary>
    private async Task<List<Renewal>> RenewAsync(params string[] tokenPrefixes)
    {
        var (_, price) = await _data.PlanAsync(20m);
        var (_, upgrade) = await _data.PlanAsync(40m);
        var renewals = new List<Renewal>();
        foreach (var prefix in tokenPrefixes)
        {
            var customer = await _data.CustomerAsync(prefix);
            renewals.Add(new Renewal((await _data.SubscriptionAsync(customer, price)).Id, customer.Id, upgrade.Id));
        }
        await _engine.RunBillingAsync();
        return renewals;
    }

    private sealed record State(DunningCase Case, Invoice Invoice, Subscription Subscription, decimal BadDebt, List<string> Audit);

    private async Task<State> LoadAsync(Guid subscriptionId)
    {
        await using var db = _database.NewContext();
        var dunningCase = await db.DunningCases.AsNoTracking().Include(c => c.Steps).SingleAsync(c => c.SubscriptionId == subscriptionId, Ct);
        var invoice = await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == dunningCase.InvoiceId, Ct);
        var subscription = await db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == subscriptionId, Ct);
        var badDebt = await db.LedgerEntries.AsNoTracking().Where(e => e.InvoiceId == invoice.Id && e.Account == LedgerAccount.BadDebt)
            .SumAsync(e => e.Debit - e.Credit, Ct);
        var ids = new[] { invoice.Id.ToString(), dunningCase.Id.ToString() };
        var audit = await db.AuditLog.AsNoTracking().Where(a => ids.Contains(a.EntityId)).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync(Ct);
        return new State(dunningCase, invoice, subscription, badDebt, audit);
    }

    private static IEnumerable<(int Day, EscalationAction Action)> StepsOf(State state) =>
        state.Case.Steps.OrderBy(s => s.Day).Select(s => (s.Day, s.Action));

    /// <summary>Moves the clock on one day and runs the ladder pass, then the retry runner, as the minute jobs would.</summary>
    private async Task<int> NextDayAsync()
    {
        _engine.Clock.Advance(TimeSpan.FromDays(1));
        var steps = await _engine.InScopeAsync<DunningLadder, int>(ladder => ladder.RunDueAsync(Ct));
        await _engine.Get<DunningRetryRunner>().RunDueAsync(Ct);
        return steps;
    }

    private Task<PlanChangeView> PreviewUpgradeAsync(Renewal renewal) =>
        _engine.InScopeAsync<SubscriptionCommands, PlanChangeView>(c => c.PreviewChangeAsync(renewal.SubscriptionId, new ChangePlan(renewal.UpgradePriceId, 1, null, null), Ct));

    private Task<PlanChangeView> UpgradeAsync(Renewal renewal) =>
        _engine.InScopeAsync<SubscriptionCommands, PlanChangeView>(c => c.ChangePlanAsync(renewal.SubscriptionId,
            new ChangePlan(renewal.UpgradePriceId, 1, null, null), Agent, "Customer asked for more seats", Ct));

    /// <summary>The customer gives support a new card, which support charges at once.</summary>
    private async Task ReplaceCardAndChargeAsync(Renewal renewal)
    {
        await using (var db = _database.NewContext())
        {
            var customer = await db.Customers.Include(c => c.PaymentMethods).SingleAsync(c => c.Id == renewal.CustomerId, Ct);
            customer.AttachPaymentMethod("sandbox", "pm_ok_" + Guid.NewGuid().ToString("N"), "visa", "4242", 12, 2031, _engine.Clock.GetUtcNow());
            await db.SaveChangesAsync(Ct);
        }
        var invoiceId = (await LoadAsync(renewal.SubscriptionId)).Invoice.Id;
        var charge = await _engine.InScopeAsync<DunningCommands, ChargeResult>(c => c.RetryNowAsync(invoiceId, Agent, "New card on the phone", Ct));
        Assert.Equal(ChargeStatus.Succeeded, charge.Status);
    }

    [Fact]
    public async Task A_declined_renewal_is_notified_then_blocked_then_written_off_on_day_21_with_a_retry_left()
    {
        var renewal = (await RenewAsync("pm_insufficient_funds_"))[0];
        var opened = await LoadAsync(renewal.SubscriptionId);
        Assert.Equal((DunningStatus.RetryPending, SubscriptionStatus.PastDue), (opened.Case.Status, opened.Subscription.Status));

        for (var day = 1; day <= 9; day++) Assert.Equal(0, await NextDayAsync());
        Assert.Equal(2, (await LoadAsync(renewal.SubscriptionId)).Case.RetriesMade);

        Assert.Equal(1, await NextDayAsync());
        var notified = await LoadAsync(renewal.SubscriptionId);
        var notice = Assert.Single(notified.Case.Steps);
        Assert.Equal((10, EscalationAction.Notify, "dunning_notice_day_10", _engine.Clock.GetUtcNow()), (notice.Day, notice.Action, notice.Template, notice.TakenAt));
        Assert.Equal(1, notified.Case.EscalationStep);
        Assert.False(notified.Subscription.PlanChangesBlocked);

        for (var day = 11; day <= 13; day++) Assert.Equal(0, await NextDayAsync());
        Assert.NotNull(await PreviewUpgradeAsync(renewal));

        Assert.Equal(1, await NextDayAsync());
        var blocked = await LoadAsync(renewal.SubscriptionId);
        Assert.Equal([(10, EscalationAction.Notify), (14, EscalationAction.BlockPlanChanges)], StepsOf(blocked));
        Assert.True(blocked.Subscription.PlanChangesBlocked);
        Assert.Equal(Subscription.PlanChangesBlockedReason, (await Assert.ThrowsAsync<DomainRuleException>(() => UpgradeAsync(renewal))).Message);
        Assert.Equal(Subscription.PlanChangesBlockedReason, (await Assert.ThrowsAsync<DomainRuleException>(() => PreviewUpgradeAsync(renewal))).Message);
        Assert.NotEqual(renewal.UpgradePriceId, (await LoadAsync(renewal.SubscriptionId)).Subscription.PriceId);

        for (var day = 15; day <= 20; day++) Assert.Equal(0, await NextDayAsync());
        var eve = await LoadAsync(renewal.SubscriptionId);
        Assert.Equal((DunningStatus.RetryPending, 2, _engine.Clock.GetUtcNow().AddDays(1)), (eve.Case.Status, eve.Case.RetriesMade, eve.Case.NextAttemptAt));

        Assert.Equal(1, await NextDayAsync());
        var written = await LoadAsync(renewal.SubscriptionId);
        Assert.Equal((DunningStatus.Exhausted, "mark_uncollectible", _engine.Clock.GetUtcNow()), (written.Case.Status, written.Case.FinalAction, written.Case.ClosedAt));
        Assert.Equal(2, written.Case.RetriesMade);
        Assert.Equal([(10, EscalationAction.Notify), (14, EscalationAction.BlockPlanChanges), (21, EscalationAction.FinalAction)], StepsOf(written));
        Assert.Equal(InvoiceStatus.Uncollectible, written.Invoice.Status);
        Assert.Equal(written.Invoice.Total.Amount, written.BadDebt);
        Assert.False(written.Subscription.PlanChangesBlocked);
        Assert.Equal(3, written.Audit.Count(a => a == "dunning.step_taken"));
        Assert.Single(written.Audit, "dunning.final_action");

        for (var day = 22; day <= 30; day++) Assert.Equal(0, await NextDayAsync());
        Assert.Equal(2, (await LoadAsync(renewal.SubscriptionId)).Case.RetriesMade);
    }

    [Fact]
    public async Task A_hard_decline_waiting_for_a_card_reaches_its_final_action_on_day_21()
    {
        var renewal = (await RenewAsync("pm_stolen_card_"))[0];
        Assert.Equal(DunningStatus.AwaitingPaymentMethod, (await LoadAsync(renewal.SubscriptionId)).Case.Status);

        for (var day = 1; day <= 20; day++) await NextDayAsync();
        var waiting = await LoadAsync(renewal.SubscriptionId);
        Assert.Equal(DunningStatus.AwaitingPaymentMethod, waiting.Case.Status);
        Assert.Equal([(10, EscalationAction.Notify), (14, EscalationAction.BlockPlanChanges)], StepsOf(waiting));
        Assert.True(waiting.Subscription.PlanChangesBlocked);

        Assert.Equal(1, await NextDayAsync());
        var ended = await LoadAsync(renewal.SubscriptionId);
        Assert.Equal((DunningStatus.Exhausted, InvoiceStatus.Uncollectible), (ended.Case.Status, ended.Invoice.Status));
        Assert.Equal(21, ended.Case.LastStepDay);
    }

    [Fact]
    public async Task A_new_card_that_pays_lifts_the_block()
    {
        var renewal = (await RenewAsync("pm_stolen_card_"))[0];
        for (var day = 1; day <= 14; day++) await NextDayAsync();
        Assert.True((await LoadAsync(renewal.SubscriptionId)).Subscription.PlanChangesBlocked);

        await ReplaceCardAndChargeAsync(renewal);

        var paid = await LoadAsync(renewal.SubscriptionId);
        Assert.Equal((DunningStatus.Recovered, InvoiceStatus.Paid), (paid.Case.Status, paid.Invoice.Status));
        Assert.False(paid.Subscription.PlanChangesBlocked);
        Assert.NotNull(await UpgradeAsync(renewal));
        for (var day = 15; day <= 30; day++) Assert.Equal(0, await NextDayAsync());
    }

    [Fact]
    public async Task A_case_recovered_after_its_notice_and_before_the_block_day_is_never_blocked()
    {
        var renewal = (await RenewAsync("pm_insufficient_funds_"))[0];
        for (var day = 1; day <= 12; day++) await NextDayAsync();
        Assert.Equal([(10, EscalationAction.Notify)], StepsOf(await LoadAsync(renewal.SubscriptionId)));
        await ReplaceCardAndChargeAsync(renewal);

        for (var day = 13; day <= 30; day++) Assert.Equal(0, await NextDayAsync());
        var recovered = await LoadAsync(renewal.SubscriptionId);
        Assert.Equal(DunningStatus.Recovered, recovered.Case.Status);
        Assert.Equal([(10, EscalationAction.Notify)], StepsOf(recovered));
        Assert.False(recovered.Subscription.PlanChangesBlocked);
        Assert.Single(recovered.Audit, "dunning.step_taken");
    }

    [Fact]
    public async Task Two_passes_at_once_on_two_nodes_take_each_step_once()
    {
        var renewals = await RenewAsync([.. Enumerable.Range(0, 12).Select(i => i % 3 == 0 ? "pm_lost_card_" : "pm_insufficient_funds_")]);
        _engine.Clock.Advance(TimeSpan.FromDays(15));
        await using var otherNode = EngineServices.Create(_database, _engine.Clock, _engine.Gateway);

        var passes = await Task.WhenAll(
            Task.Run(() => _engine.InScopeAsync<DunningLadder, int>(ladder => ladder.RunDueAsync(Ct))),
            Task.Run(() => otherNode.InScopeAsync<DunningLadder, int>(ladder => ladder.RunDueAsync(Ct))));

        Assert.Equal(renewals.Count * 2, passes.Sum());
        foreach (var renewal in renewals)
        {
            var state = await LoadAsync(renewal.SubscriptionId);
            Assert.Equal([(10, EscalationAction.Notify), (14, EscalationAction.BlockPlanChanges)], StepsOf(state));
            Assert.Equal(2, state.Audit.Count(a => a == "dunning.step_taken"));
            Assert.True(state.Subscription.PlanChangesBlocked);
        }
        Assert.Equal(0, await _engine.InScopeAsync<DunningLadder, int>(ladder => ladder.RunDueAsync(Ct)));
    }
}
