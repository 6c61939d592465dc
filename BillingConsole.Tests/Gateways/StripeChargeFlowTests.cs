using BillingConsole.Configuration;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.PayPage;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BillingConsole.Tests.Gateways;

/// <summary>The engine with Gateway:Mode "stripe": charges, timeouts and reconciliation go through the Stripe adapter.</summary>
public sealed class StripeChargeFlowTests : IAsyncLifetime
{
    private readonly StripeStandIn _stripe = new();
    private readonly ListLogger<ChargeSender> _log = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("stripe");
        _engine = EngineServices.Create(_database, settings: new Dictionary<string, string?>
        {
            ["Gateway:Mode"] = "stripe",
            // Long enough for a loaded machine's first Stripe call (measured up to 1.7 s) and the look-up; the slow charge answers well after it.
            ["Gateway:ChargeTimeoutMs"] = "4000",
            ["Gateway:Stripe:ApiBase"] = _stripe.Url,
            ["Gateway:Stripe:ApiKey"] = StripeStandIn.ApiKey,
        }, services: services => services.AddSingleton<ILogger<ChargeSender>>(_log));
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
        _stripe.Dispose();
    }

    private async Task<Guid> OpenInvoiceAsync() => (await _engine.OpenInvoiceAsync(_data, "cus_Flow/pm_card_")).InvoiceId;

    private Task<ChargeResult> ChargeAsync(Guid invoiceId) =>
        _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.Manual, Actor.System, CancellationToken.None));

    [Fact]
    public async Task A_charge_the_bank_wants_authenticated_waits_for_the_customer_and_is_paid_when_Stripe_reports_their_confirmation()
    {
        var invoiceId = await OpenInvoiceAsync();
        _stripe.ChargeAnswers("pi_3Sca", "requires_action");

        var first = await ChargeAsync(invoiceId);
        Assert.Equal((ChargeStatus.Failed, DeclineCodes.AuthenticationRequired), (first.Status, first.DeclineCode));
        for (var day = 1; day <= 5; day++)
        {
            _engine.Clock.Advance(TimeSpan.FromDays(1));
            await _engine.Get<DunningRetryRunner>().RunDueAsync(Ct);
        }
        Assert.Single(_stripe.Requests(StripeStandIn.IntentsPath));
        await using (var db = _database.NewContext())
        {
            var waiting = await db.DunningCases.AsNoTracking().SingleAsync(c => c.InvoiceId == invoiceId, Ct);
            Assert.Equal((DunningStatus.AwaitingPaymentMethod, DeclineCodes.AuthenticationRequired), (waiting.Status, waiting.LastDeclineCode));
        }

        // The customer confirmed the intent with Stripe's client script; Stripe reports it as payment_intent.succeeded.
        await using var scope = _engine.Services.CreateAsyncScope();
        var billing = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
        var reported = await billing.InTransactionAsync(() => scope.ServiceProvider.GetRequiredService<PaymentProcessor>()
            .RecordReportedOutcomeAsync(null, "pi_3Sca", GatewayChargeResult.Succeeded("pi_3Sca", TimeSpan.Zero), Ct), Ct);

        Assert.Equal(ChargeStatus.Succeeded, reported?.Status);
        await using var after = _database.NewContext();
        Assert.Equal(InvoiceStatus.Paid, (await after.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId, Ct)).Status);
        Assert.Equal(DunningStatus.Recovered, (await after.DunningCases.AsNoTracking().SingleAsync(c => c.InvoiceId == invoiceId, Ct)).Status);
    }

    [Fact]
    public async Task A_card_saved_with_Stripe_in_setup_mode_becomes_the_default_once_and_pays_the_waiting_invoice_at_once()
    {
        var invoiceId = await OpenInvoiceAsync();
        _stripe.ChargeDeclines("pi_3Expired", "card_declined", "expired_card", "Your card has expired.");
        Assert.Equal(ChargeStatus.Failed, (await ChargeAsync(invoiceId)).Status);
        Guid customerId;
        Guid? oldCard;
        await using (var db = _database.NewContext())
        {
            customerId = await db.Invoices.Where(i => i.Id == invoiceId).Select(i => i.CustomerId).SingleAsync(Ct);
            oldCard = await db.PaymentMethods.Where(p => p.CustomerId == customerId && p.IsDefault).Select(p => (Guid?)p.Id).SingleAsync(Ct);
            Assert.Equal(DunningStatus.AwaitingPaymentMethod, await db.DunningCases.Where(c => c.InvoiceId == invoiceId).Select(c => c.Status).SingleAsync(Ct));
        }
        var token = _engine.Get<PayLinks>().TokenFor(customerId, oldCard);
        _stripe.Reset();
        _stripe.CheckoutSessionAnswers("cs_test_1", "https://checkout.stripe.com/c/pay/cs_test_1");

        var started = await _engine.InScopeAsync<CustomerPayPage, PayPageRedirect>(page => page.StartStripeSetupAsync(token, Ct));

        Assert.Equal("https://checkout.stripe.com/c/pay/cs_test_1", started.Url);
        var session = StripeStandIn.Form(Assert.Single(_stripe.Requests(StripeStandIn.CheckoutSessionsPath)));
        Assert.Equal(("setup", "cus_Flow", "usd"), (session["mode"].ToString(), session["customer"].ToString(), session["currency"].ToString()));
        Assert.Equal(customerId.ToString(), session["setup_intent_data[metadata][customer_id]"].ToString());
        Assert.EndsWith($"/pay/{token}", session["success_url"].ToString());
        Assert.Empty(_stripe.Requests(StripeStandIn.CustomersPath));

        // Stripe reports the succeeded SetupIntent (setup_intent.succeeded); the card it saved is read back and attached.
        _stripe.SetupIntentAnswers("seti_1", "cus_Flow", customerId, "pm_new", "4444");
        _stripe.ChargeAnswers("pi_3Paid");
        var update = await _engine.InScopeAsync<StripeCards, CardUpdate?>(setups => setups.CompleteAsync("seti_1", Ct));

        Assert.Equal((StripeGateway.GatewayName, "4444"), (update!.Method.Gateway, update.Method.Last4));
        Assert.Equal(ChargeStatus.Succeeded, Assert.Single(update.Charges).Status);
        Assert.Null(await _engine.InScopeAsync<StripeCards, CardUpdate?>(setups => setups.CompleteAsync("seti_1", Ct)));
        Assert.Single(_stripe.Requests(StripeStandIn.IntentsPath));
        await using var after = _database.NewContext();
        Assert.Equal(InvoiceStatus.Paid, (await after.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId, Ct)).Status);
        Assert.Equal(DunningStatus.Recovered, (await after.DunningCases.AsNoTracking().SingleAsync(c => c.InvoiceId == invoiceId, Ct)).Status);
        Assert.Equal("cus_Flow/pm_new", await after.PaymentMethods.Where(p => p.CustomerId == customerId && p.IsDefault).Select(p => p.Token).SingleAsync(Ct));
    }

    [Fact]
    public async Task A_card_the_network_updater_replaced_moves_its_waiting_case_on_and_is_charged_at_once_once()
    {
        var invoiceId = await OpenInvoiceAsync();
        _stripe.ChargeDeclines("pi_3Old", "card_declined", "expired_card", "Your card has expired.");
        Assert.Equal(ChargeStatus.Failed, (await ChargeAsync(invoiceId)).Status);
        string token;
        await using (var db = _database.NewContext())
            token = await db.PaymentMethods.Where(p => p.IsDefault && db.Invoices.Any(i => i.Id == invoiceId && i.CustomerId == p.CustomerId))
                .Select(p => p.Token).SingleAsync(Ct);
        _stripe.Reset();
        _stripe.ChargeAnswers("pi_3New");

        // payment_method.automatically_updated: the same card, a new expiry and number.
        var update = await _engine.InScopeAsync<StripeCards, CardUpdate?>(cards => cards.CardUpdatedAsync(token, "1881", 9, 2032, Ct));

        Assert.Equal(("1881", 9, 2032), (update!.Method.Last4, update.Method.ExpMonth, update.Method.ExpYear));
        Assert.Equal(ChargeStatus.Succeeded, Assert.Single(update.Charges).Status);
        Assert.Null(await _engine.InScopeAsync<StripeCards, CardUpdate?>(cards => cards.CardUpdatedAsync(token, "1881", 9, 2032, Ct)));
        Assert.Single(_stripe.Requests(StripeStandIn.IntentsPath));
        await using var after = _database.NewContext();
        Assert.Equal(InvoiceStatus.Paid, (await after.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId, Ct)).Status);
        Assert.Equal(DunningStatus.Recovered, (await after.DunningCases.AsNoTracking().SingleAsync(c => c.InvoiceId == invoiceId, Ct)).Status);
    }

    [Fact]
    public void Stripe_mode_charges_through_the_stripe_adapter()
    {
        Assert.Equal(StripeGateway.GatewayName, _engine.Get<IPaymentGateway>().Name);
    }

    [Fact]
    public async Task A_charge_past_the_deadline_is_unknown_and_logged_then_reconciled_by_searching_for_its_key_without_charging_again()
    {
        var invoiceId = await OpenInvoiceAsync();
        _stripe.ChargeAnswers("pi_3Late", "succeeded", delay: TimeSpan.FromSeconds(6));

        var first = await ChargeAsync(invoiceId);

        Assert.Equal(ChargeStatus.Unknown, first.Status);
        var logged = Assert.Single(_log.Entries, e => e.Level == LogLevel.Error);
        Assert.Equal(DeclineCodes.GatewayTimeout, logged.Properties["ErrorCode"]);
        string key;
        await using (var db = _database.NewContext())
        {
            var attempt = await db.PaymentAttempts.AsNoTracking().SingleAsync(a => a.InvoiceId == invoiceId, Ct);
            Assert.Equal(PaymentAttemptStatus.Unknown, attempt.Status);
            Assert.Equal(StripeGateway.GatewayName, attempt.Gateway);
            key = attempt.IdempotencyKey;
        }

        // Stripe did charge behind the timeout: the search finds the intent carrying the key.
        _stripe.SearchFinds(StripeStandIn.Intent("pi_3Late", "succeeded"));
        var second = await ChargeAsync(invoiceId);

        Assert.Equal(ChargeStatus.Succeeded, second.Status);
        Assert.True(second.Reconciled);
        Assert.Single(await _stripe.AnsweredAsync(StripeStandIn.IntentsPath, 1, Ct));
        var search = Assert.Single(_stripe.Requests(StripeStandIn.SearchPath));
        Assert.Contains(key, search.RequestMessage.Query!["query"].Single());
        await using var after = _database.NewContext();
        Assert.Equal(InvoiceStatus.Paid, (await after.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId, Ct)).Status);
        var settled = await after.PaymentAttempts.AsNoTracking().SingleAsync(a => a.InvoiceId == invoiceId, Ct);
        Assert.Equal(("pi_3Late", PaymentAttemptStatus.Succeeded), (settled.GatewayReference, settled.Status));
    }

    [Fact]
    public async Task A_decline_opens_dunning_with_the_mapped_code()
    {
        var invoiceId = await OpenInvoiceAsync();
        _stripe.ChargeDeclines("pi_3NoFunds", "card_declined", "insufficient_funds", "Your card has insufficient funds.");

        var result = await ChargeAsync(invoiceId);

        Assert.Equal(ChargeStatus.Failed, result.Status);
        Assert.Equal(DeclineCodes.InsufficientFunds, result.DeclineCode);
        await using var db = _database.NewContext();
        var dunningCase = await db.DunningCases.AsNoTracking().SingleAsync(c => c.InvoiceId == invoiceId, Ct);
        Assert.Equal(DeclineCodes.InsufficientFunds, dunningCase.LastDeclineCode);
    }

    [Fact]
    public async Task Stripe_mode_without_a_secret_key_is_refused_naming_the_setting()
    {
        await using var engine = EngineServices.Create(_database, settings: new Dictionary<string, string?> { ["Gateway:Mode"] = "stripe" });

        var error = Assert.Throws<OptionsValidationException>(() => engine.Get<IOptions<GatewayOptions>>().Value);

        Assert.Contains("Gateway:Stripe:ApiKey", error.Message);
    }

    [Fact]
    public async Task A_refund_Stripe_accepts_as_pending_waits_for_its_webhook_and_is_sent_under_its_own_key()
    {
        var invoiceId = await OpenInvoiceAsync();
        _stripe.ChargeAnswers("pi_3Refund");
        _stripe.SearchFinds(StripeStandIn.Intent("pi_3Refund", "succeeded"));
        var charged = await ChargeAsync(invoiceId);
        // A loaded machine may answer after the deadline: the engine then learns the outcome by looking the charge up.
        if (charged.Status == ChargeStatus.Unknown)
            charged = (await _engine.InScopeAsync<PaymentProcessor, ChargeResult?>(p => p.ReconcileAsync(invoiceId, Actor.System, Ct)))!;
        Assert.Equal(ChargeStatus.Succeeded, charged.Status);
        _stripe.RefundAnswers("re_3Pending", "pending");

        var refund = await _engine.InScopeAsync<RefundCommands, RefundView>(c =>
            c.RefundAsync(invoiceId, new RefundPayment(5m, "order_change"), new Actor("Ada Admin", "admin"), "Downsized mid-month", Ct));

        Assert.Equal(("pending", "re_3Pending"), (refund.Status, refund.GatewayReference));
        var sent = StripeStandIn.Form(Assert.Single(_stripe.Requests(StripeStandIn.RefundsPath)));
        Assert.Equal(("pi_3Refund", "500", "order_change"), (sent["payment_intent"].ToString(), sent["amount"].ToString(), sent["metadata[reason]"].ToString()));
        var key = sent["metadata[idempotency_key]"].ToString();
        Assert.Equal($"refund_{refund.Id:N}", key);
        Assert.Equal(key, StripeStandIn.Header(Assert.Single(_stripe.Requests(StripeStandIn.RefundsPath)), "Idempotency-Key"));
        // Accepted as pending, it is not sent again by the reconciliation: Stripe reports the outcome.
        _engine.Clock.Advance(TimeSpan.FromHours(1));
        await _engine.InScopeAsync<RefundCommands, int>(c => c.ReconcileAsync(Ct));
        Assert.Single(_stripe.Requests(StripeStandIn.RefundsPath));

        var reported = await _engine.InScopeAsync<RefundCommands, RefundView?>(c =>
            c.ApplyReportedAsync(key, new GatewayRefundResult(GatewayRefundStatus.Succeeded, "re_3Pending", null, TimeSpan.Zero), Ct));

        Assert.Equal("succeeded", reported!.Status);
        Assert.Equal("refunded", reported.CreditNote!.Settlement);
    }
}
