using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.PayPage;
using BillingConsole.Engine.Payments;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine.PayPage;

/// <summary>
/// A new card, however it comes, over a real database: the customer's waiting cases move on and their open dunning invoices
/// are charged to it at once. The pay page's links are read first and a bad one changes nothing.
/// </summary>
public sealed class CardUpdatesTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Agent = new("agent@example.test", "support");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("cardupdates");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    private sealed record Declined(Guid CustomerId, Guid SubscriptionId, Guid InvoiceId, Guid CaseId, Guid UpgradePriceId);

    /// <summary>A renewal charged by the billing run to a card starting with <paramref name="tokenPrefix"/>, declined.</summary>
    private async Task<Declined> DeclinedRenewalAsync(string tokenPrefix)
    {
        var (_, price) = await _data.PlanAsync(20m);
        var (_, upgrade) = await _data.PlanAsync(40m);
        var customer = await _data.CustomerAsync(tokenPrefix);
        var subscription = await _data.SubscriptionAsync(customer, price);
        await _engine.RunBillingAsync();
        await using var db = _database.NewContext();
        var dunningCase = await db.DunningCases.AsNoTracking().SingleAsync(c => c.CustomerId == customer.Id, Ct);
        return new Declined(customer.Id, subscription.Id, dunningCase.InvoiceId, dunningCase.Id, upgrade.Id);
    }

    private sealed record State(DunningCase Case, Invoice Invoice, List<PaymentAttempt> Attempts, int Cards, bool PlanChangesBlocked, List<string> Audit);

    private async Task<State> LoadAsync(Declined declined)
    {
        await using var db = _database.NewContext();
        var dunningCase = await db.DunningCases.AsNoTracking().SingleAsync(c => c.Id == declined.CaseId, Ct);
        var invoice = await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == declined.InvoiceId, Ct);
        var attempts = await db.PaymentAttempts.AsNoTracking().Where(a => a.InvoiceId == declined.InvoiceId).OrderBy(a => a.AttemptNumber).ToListAsync(Ct);
        var cards = await db.PaymentMethods.CountAsync(p => p.CustomerId == declined.CustomerId, Ct);
        var blocked = await db.Subscriptions.Where(s => s.Id == declined.SubscriptionId).Select(s => s.PlanChangesBlocked).SingleAsync(Ct);
        var ids = new[] { declined.InvoiceId.ToString(), declined.CaseId.ToString(), declined.CustomerId.ToString() };
        var audit = await db.AuditLog.AsNoTracking().Where(a => ids.Contains(a.EntityId)).OrderBy(a => a.Id)
            .Select(a => a.Action + " by " + a.Actor).ToListAsync(Ct);
        return new State(dunningCase, invoice, attempts, cards, blocked, audit);
    }

    private string TokenFor(Declined declined, Guid? currentCard) => _engine.Get<PayLinks>().TokenFor(declined.CustomerId, currentCard);

    private async Task<Guid?> CurrentCardAsync(Declined declined) =>
        await _engine.InScopeAsync<CardUpdates, Guid?>(cards => cards.CurrentMethodIdAsync(declined.CustomerId, Ct));

    private Task<PayPageSubmission> SubmitAsync(string token, string card) =>
        _engine.InScopeAsync<CustomerPayPage, PayPageSubmission>(page => page.AttachSandboxCardAsync(token, card, Ct));

    [Fact]
    public async Task A_hard_declined_case_given_a_new_card_by_support_is_charged_at_once_and_recovers()
    {
        var declined = await DeclinedRenewalAsync("pm_expired_card_");
        var waiting = await LoadAsync(declined);
        Assert.Equal((DunningStatus.AwaitingPaymentMethod, InvoiceStatus.Open), (waiting.Case.Status, waiting.Invoice.Status));
        _engine.Clock.Advance(TimeSpan.FromDays(3));

        var update = await _engine.InScopeAsync<CardUpdates, CardUpdate>(cards => cards.AttachAsync(declined.CustomerId,
            new AttachPaymentMethod("sandbox", "pm_ok_" + Guid.NewGuid().ToString("N"), "visa", "4242", 12, 2031), Agent, "Card read out on the phone", Ct));

        var charge = Assert.Single(update.Charges);
        Assert.Equal((declined.InvoiceId, ChargeStatus.Succeeded), (charge.InvoiceId, charge.Status));
        var paid = await LoadAsync(declined);
        Assert.Equal((DunningStatus.Recovered, InvoiceStatus.Paid), (paid.Case.Status, paid.Invoice.Status));
        var attempt = paid.Attempts[^1];
        Assert.Equal((2, PaymentTrigger.NewPaymentMethod, update.Method.Id), (paid.Attempts.Count, attempt.Trigger, attempt.PaymentMethodId));
        Assert.Equal(_engine.Clock.GetUtcNow(), paid.Case.ClosedAt);
        Assert.Contains("payment_method.attached by agent@example.test", paid.Audit);
        Assert.Contains("dunning.payment_method_attached by agent@example.test", paid.Audit);
        Assert.Contains("invoice.charge by agent@example.test", paid.Audit);
        Assert.Contains("dunning.recovered by system", paid.Audit);
    }

    [Fact]
    public async Task A_new_card_that_declines_too_leaves_the_case_waiting_again_not_stuck()
    {
        var hard = await DeclinedRenewalAsync("pm_lost_card_");
        await _engine.InScopeAsync<CardUpdates, CardUpdate>(cards => cards.AttachAsync(hard.CustomerId,
            cards.SandboxCard("pm_insufficient_funds_"), Agent, "New card", Ct));

        var soft = await LoadAsync(hard);
        Assert.Equal((DunningStatus.RetryPending, InvoiceStatus.Open, DeclineCodes.InsufficientFunds), (soft.Case.Status, soft.Invoice.Status, soft.Attempts[^1].DeclineCode));
        Assert.True(soft.Case.NextAttemptAt > _engine.Clock.GetUtcNow());
        Assert.Equal(0, soft.Case.RetriesMade);

        await _engine.InScopeAsync<CardUpdates, CardUpdate>(cards => cards.AttachAsync(hard.CustomerId, cards.SandboxCard("pm_stolen_card"), Agent, "Another card", Ct));
        var waiting = await LoadAsync(hard);
        Assert.Equal((DunningStatus.AwaitingPaymentMethod, DeclineCodes.StolenCard, 3), (waiting.Case.Status, waiting.Case.LastDeclineCode, waiting.Attempts.Count));
    }

    [Fact]
    public async Task The_customer_replaces_the_card_through_a_link_once_and_the_invoice_is_paid()
    {
        var declined = await DeclinedRenewalAsync("pm_stolen_card_");
        var token = TokenFor(declined, await CurrentCardAsync(declined));

        var opened = await _engine.InScopeAsync<CustomerPayPage, PayPageOpening>(page => page.OpenAsync(token, Ct));
        var invoice = Assert.Single(opened.Page!.Invoices);
        Assert.Equal((declined.InvoiceId, new Money(20m, "USD"), "sandbox"), (invoice.Id, opened.Page.AmountDue, opened.Page.Gateway));

        var submitted = await SubmitAsync(token, "pm_ok_");
        Assert.Equal(ChargeStatus.Succeeded, Assert.Single(submitted.Update!.Charges).Status);
        var paid = await LoadAsync(declined);
        Assert.Equal((DunningStatus.Recovered, InvoiceStatus.Paid, 2), (paid.Case.Status, paid.Invoice.Status, paid.Cards));
        Assert.Contains($"invoice.charge by customer:{declined.CustomerId}", paid.Audit);

        // The link is spent by the card it attached: used again it is refused and attaches nothing.
        Assert.Equal(PayPageRefusal.Spent, (await SubmitAsync(token, "pm_ok_")).Refusal);
        Assert.Equal(PayPageRefusal.Spent, (await _engine.InScopeAsync<CustomerPayPage, PayPageOpening>(page => page.OpenAsync(token, Ct))).Refusal);
        Assert.Equal(2, (await LoadAsync(declined)).Cards);
    }

    [Fact]
    public async Task A_tampered_or_expired_link_changes_nothing()
    {
        var declined = await DeclinedRenewalAsync("pm_expired_card_");
        var token = TokenFor(declined, await CurrentCardAsync(declined));
        var before = await LoadAsync(declined);
        var tampered = token.ToCharArray();
        tampered[^6] = tampered[^6] == 'A' ? 'B' : 'A';

        Assert.Equal(PayPageRefusal.Invalid, (await SubmitAsync(new string(tampered), "pm_ok_")).Refusal);
        Assert.Equal(PayPageRefusal.Invalid, (await SubmitAsync(_engine.Get<PayLinks>().TokenFor(Guid.NewGuid(), null), "pm_ok_")).Refusal);
        _engine.Clock.Advance(TimeSpan.FromDays(14));
        Assert.Equal(PayPageRefusal.Expired, (await SubmitAsync(token, "pm_ok_")).Refusal);

        var after = await LoadAsync(declined);
        Assert.Equal((DunningStatus.AwaitingPaymentMethod, InvoiceStatus.Open, 1, 1), (after.Case.Status, after.Invoice.Status, after.Attempts.Count, after.Cards));
        Assert.Equal(before.Audit, after.Audit);
    }

    [Fact]
    public async Task A_sandbox_card_token_that_promises_no_outcome_is_refused_before_anything_is_written()
    {
        var declined = await DeclinedRenewalAsync("pm_expired_card_");
        var token = TokenFor(declined, await CurrentCardAsync(declined));
        foreach (var card in new[] { "", "4242424242424242", "pm_okay", "PM_OK_", "pm_ok_<script>" })
        {
            var refused = await Assert.ThrowsAsync<FluentValidation.ValidationException>(() => SubmitAsync(token, card));
            Assert.Contains("pm_ok_", refused.Errors.Single().ErrorMessage);
        }
        Assert.Equal(1, (await LoadAsync(declined)).Cards);
    }

    [Fact]
    public async Task A_card_replaced_after_the_block_step_allows_plan_changes_again()
    {
        var declined = await DeclinedRenewalAsync("pm_account_closed_");
        _engine.Clock.Advance(TimeSpan.FromDays(15));
        var token = TokenFor(declined, await CurrentCardAsync(declined));
        await _engine.InScopeAsync<DunningLadder, int>(ladder => ladder.RunDueAsync(Ct));
        Assert.True((await LoadAsync(declined)).PlanChangesBlocked);
        var change = new ChangePlan(declined.UpgradePriceId, 1, null, null);
        await Assert.ThrowsAsync<DomainRuleException>(() =>
            _engine.InScopeAsync<SubscriptionCommands, PlanChangeView>(c => c.ChangePlanAsync(declined.SubscriptionId, change, Agent, "More seats", Ct)));

        await SubmitAsync(token, "pm_ok_");

        var recovered = await LoadAsync(declined);
        Assert.Equal((DunningStatus.Recovered, false), (recovered.Case.Status, recovered.PlanChangesBlocked));
        Assert.NotNull(await _engine.InScopeAsync<SubscriptionCommands, PlanChangeView>(c =>
            c.ChangePlanAsync(declined.SubscriptionId, change, Agent, "More seats", Ct)));
    }

    [Fact]
    public async Task A_payment_the_bank_wants_authenticated_is_not_retried_off_session_and_is_paid_when_the_customer_confirms_it()
    {
        var declined = await DeclinedRenewalAsync("pm_authentication_required_");
        var waiting = await LoadAsync(declined);
        Assert.Equal((DunningStatus.AwaitingPaymentMethod, DeclineCodes.AuthenticationRequired), (waiting.Case.Status, waiting.Case.LastDeclineCode));
        for (var day = 1; day <= 5; day++)
        {
            _engine.Clock.Advance(TimeSpan.FromDays(1));
            await _engine.Get<DunningRetryRunner>().RunDueAsync(Ct);
        }
        Assert.Single((await LoadAsync(declined)).Attempts);

        var token = TokenFor(declined, await CurrentCardAsync(declined));
        var opened = await _engine.InScopeAsync<CustomerPayPage, PayPageOpening>(page => page.OpenAsync(token, Ct));
        Assert.True(Assert.Single(opened.Page!.Invoices).AwaitingAuthentication);
        var confirmed = await _engine.InScopeAsync<CustomerPayPage, PayPageConfirmation>(page => page.ConfirmPaymentsAsync(token, Ct));

        Assert.Equal(ChargeStatus.Succeeded, Assert.Single(confirmed.Payments).Status);
        var paid = await LoadAsync(declined);
        Assert.Equal((DunningStatus.Recovered, InvoiceStatus.Paid), (paid.Case.Status, paid.Invoice.Status));
        Assert.Equal(PaymentAttemptStatus.Succeeded, Assert.Single(paid.Attempts).Status);
        Assert.Empty((await _engine.InScopeAsync<CustomerPayPage, PayPageConfirmation>(page => page.ConfirmPaymentsAsync(token, Ct))).Payments);
    }
}
