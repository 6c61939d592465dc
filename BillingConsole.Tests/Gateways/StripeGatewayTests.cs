using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using BillingConsole.Gateways;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace BillingConsole.Tests.Gateways;

/// <summary>The Stripe adapter against a local server answering as Stripe's API documents.</summary>
public sealed class StripeGatewayTests : IDisposable
{
    private readonly StripeStandIn _stripe = new();
    private readonly ListLogger<StripeGateway> _log = new();
    private readonly StripeGateway _gateway;

    public StripeGatewayTests() => _gateway = new StripeGateway(Options.Create(new GatewayOptions
    {
        Mode = StripeGateway.GatewayName,
        // Generous: the client's own timeout is twice this, and a loaded machine can be slow to answer a first request.
        ChargeTimeoutMs = 10_000,
        Stripe = { ApiBase = _stripe.Url, ApiKey = StripeStandIn.ApiKey },
    }), _log);

    public void Dispose() => _stripe.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static GatewayChargeRequest Request(string key = "inv_0f8e_att_1", decimal amount = 20m, string currency = "USD") =>
        new(StripeGateway.GatewayName, key, new Money(amount, currency), "cus_Q1w2e3/pm_1R4t5y", Guid.Parse("3d2c6f7a-0000-4000-8000-000000000001"),
            Guid.Parse("9b1e2d3c-0000-4000-8000-000000000002"), "INV-001234", "Invoice INV-001234");

    [Fact]
    public async Task A_charge_confirms_an_off_session_payment_intent_with_the_idempotency_key_and_the_secret_key()
    {
        _stripe.ChargeAnswers("pi_3Ok1", "succeeded");

        var result = await _gateway.ChargeAsync(Request(amount: 20.50m), Ct);

        Assert.Equal(GatewayOutcome.Succeeded, result.Outcome);
        Assert.Equal("pi_3Ok1", result.GatewayReference);
        var sent = Assert.Single(_stripe.Requests(StripeStandIn.IntentsPath));
        Assert.Equal("POST", sent.RequestMessage.Method);
        var form = StripeStandIn.Form(sent);
        Assert.Equal("2050", form["amount"]);
        Assert.Equal("usd", form["currency"]);
        Assert.Equal("cus_Q1w2e3", form["customer"]);
        Assert.Equal("pm_1R4t5y", form["payment_method"]);
        Assert.Equal("true", form["confirm"]);
        Assert.Equal("true", form["off_session"]);
        Assert.Equal("inv_0f8e_att_1", form["metadata[idempotency_key]"]);
        Assert.Equal("9b1e2d3c-0000-4000-8000-000000000002", form["metadata[invoice_id]"]);
        Assert.Equal("inv_0f8e_att_1", StripeStandIn.Header(sent, "Idempotency-Key"));
        Assert.Equal($"Bearer {StripeStandIn.ApiKey}", StripeStandIn.Header(sent, "Authorization"));
    }

    [Fact]
    public async Task Amounts_go_in_the_currencys_minor_units()
    {
        _stripe.ChargeAnswers("pi_yen");

        await _gateway.ChargeAsync(Request(amount: 1500m, currency: "JPY"), Ct);

        var form = StripeStandIn.Form(Assert.Single(_stripe.Requests(StripeStandIn.IntentsPath)));
        Assert.Equal("1500", form["amount"]);
        Assert.Equal("jpy", form["currency"]);
    }

    [Theory]
    [InlineData("card_declined", "insufficient_funds", DeclineCodes.InsufficientFunds)]
    [InlineData("card_declined", "do_not_honor", DeclineCodes.DoNotHonor)]
    [InlineData("card_declined", "try_again_later", DeclineCodes.TryAgainLater)]
    [InlineData("card_declined", "processing_error", DeclineCodes.TryAgainLater)]
    [InlineData("expired_card", null, DeclineCodes.ExpiredCard)]
    [InlineData("card_declined", "lost_card", DeclineCodes.LostCard)]
    [InlineData("card_declined", "stolen_card", DeclineCodes.StolenCard)]
    [InlineData("card_declined", "fraudulent", DeclineCodes.Fraudulent)]
    [InlineData("card_declined", "invalid_account", DeclineCodes.AccountClosed)]
    [InlineData("card_declined", "generic_decline", DeclineCodes.GenericDecline)]
    [InlineData("card_declined", "card_not_supported", DeclineCodes.GenericDecline)]
    [InlineData("incorrect_cvc", null, DeclineCodes.GenericDecline)]
    public async Task A_card_error_is_a_decline_with_stripes_code_in_ours(string code, string? declineCode, string expected)
    {
        _stripe.ChargeDeclines("pi_3Declined", code, declineCode, "Your card was declined.");

        var result = await _gateway.ChargeAsync(Request(), Ct);

        Assert.Equal(GatewayOutcome.Declined, result.Outcome);
        Assert.Equal(expected, result.DeclineCode);
        Assert.Equal("Your card was declined.", result.Message);
        Assert.Equal("pi_3Declined", result.GatewayReference);
    }

    [Fact]
    public async Task An_intent_that_ends_requiring_a_new_payment_method_is_declined_with_its_last_error()
    {
        _stripe.ChargeAnswers("pi_3Failed", "requires_payment_method");

        var result = await _gateway.ChargeAsync(Request(), Ct);

        // The stand-in's intent carries no error: the decline is generic, with the intent as reference.
        Assert.Equal(GatewayOutcome.Declined, result.Outcome);
        Assert.Equal(DeclineCodes.GenericDecline, result.DeclineCode);
        Assert.Equal("pi_3Failed", result.GatewayReference);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(409)]
    [InlineData(429)]
    public async Task A_server_error_leaves_the_outcome_unknown(int status)
    {
        _stripe.FailsWith(StripeStandIn.IntentsPath, "POST", status);

        var result = await _gateway.ChargeAsync(Request(), Ct);

        Assert.Equal(GatewayOutcome.Unknown, result.Outcome);
        Assert.Equal(DeclineCodes.GatewayTimeout, result.DeclineCode);
        Assert.Null(result.GatewayReference);
        var warning = Assert.Single(_log.Entries);
        Assert.Equal(status, warning.Properties["Status"]);
        Assert.DoesNotContain(StripeStandIn.ApiKey, warning.Message);
    }

    [Fact]
    public async Task A_response_slower_than_the_callers_deadline_throws_for_the_caller_to_record_as_unknown()
    {
        _stripe.ChargeAnswers("pi_3Slow", delay: TimeSpan.FromSeconds(3));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(200);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _gateway.ChargeAsync(Request(), deadline.Token));
    }

    [Fact]
    public async Task A_token_that_is_not_a_stripe_card_is_declined_without_a_call()
    {
        var result = await _gateway.ChargeAsync(Request() with { PaymentMethodToken = "pm_ok_sandbox" }, Ct);

        Assert.Equal(DeclineCodes.NoPaymentMethod, result.DeclineCode);
        Assert.Empty(_stripe.Requests(StripeStandIn.IntentsPath));
    }

    [Fact]
    public async Task A_look_up_searches_the_intents_by_the_key_in_their_metadata()
    {
        _stripe.SearchFinds(StripeStandIn.Intent("pi_3Found", "succeeded"));

        var found = await _gateway.LookupAsync(new GatewayLookupRequest(StripeGateway.GatewayName, "inv_0f8e_att_2"), Ct);

        Assert.Equal(GatewayOutcome.Succeeded, found!.Outcome);
        Assert.Equal("pi_3Found", found.GatewayReference);
        var sent = Assert.Single(_stripe.Requests(StripeStandIn.SearchPath));
        Assert.Equal("metadata['idempotency_key']:'inv_0f8e_att_2'", sent.RequestMessage.Query!["query"].Single());
        Assert.Equal($"Bearer {StripeStandIn.ApiKey}", StripeStandIn.Header(sent, "Authorization"));
    }

    [Fact]
    public async Task A_look_up_finding_a_failed_intent_reports_its_decline()
    {
        _stripe.SearchFinds(StripeStandIn.Intent("pi_3Gone", "requires_payment_method", declineCode: "insufficient_funds"));

        var found = await _gateway.LookupAsync(new GatewayLookupRequest(StripeGateway.GatewayName, "inv_0f8e_att_3"), Ct);

        Assert.Equal(GatewayOutcome.Declined, found!.Outcome);
        Assert.Equal(DeclineCodes.InsufficientFunds, found.DeclineCode);
    }

    [Fact]
    public async Task A_look_up_finding_nothing_says_the_key_was_never_seen()
    {
        _stripe.SearchFinds();

        Assert.Null(await _gateway.LookupAsync(new GatewayLookupRequest(StripeGateway.GatewayName, "inv_0f8e_att_4"), Ct));
    }

    [Fact]
    public async Task A_look_up_that_stripe_fails_is_unknown_not_never_seen()
    {
        _stripe.FailsWith(StripeStandIn.SearchPath, "GET", 503);

        var found = await _gateway.LookupAsync(new GatewayLookupRequest(StripeGateway.GatewayName, "inv_0f8e_att_5"), Ct);

        Assert.Equal(GatewayOutcome.Unknown, found!.Outcome);
    }

    [Fact]
    public async Task A_refund_names_the_intent_and_the_amount_under_its_own_idempotency_key()
    {
        _stripe.RefundAnswers("re_3Back");

        var result = await _gateway.RefundAsync(new GatewayRefundRequest(StripeGateway.GatewayName, "refund_inv_0f8e_1", "pi_3Ok1", new Money(5m, "USD"), "Customer complaint"), Ct);

        Assert.True(result.Succeeded);
        Assert.Equal("re_3Back", result.GatewayReference);
        var sent = Assert.Single(_stripe.Requests(StripeStandIn.RefundsPath));
        var form = StripeStandIn.Form(sent);
        Assert.Equal("pi_3Ok1", form["payment_intent"]);
        Assert.Equal("500", form["amount"]);
        Assert.Equal("Customer complaint", form["metadata[reason]"]);
        Assert.Equal("refund_inv_0f8e_1", StripeStandIn.Header(sent, "Idempotency-Key"));
    }

    [Theory]
    [InlineData("cus_A/pm_B", true)]
    [InlineData("pm_B", false)]
    [InlineData("cus_A/pm_B/x", false)]
    [InlineData("pm_B/cus_A", false)]
    public void Stored_tokens_name_the_customer_and_the_card(string token, bool valid) =>
        Assert.Equal(valid, StripeGateway.TryParseToken(token, out _, out _));
}
