using System.Net;
using System.Text;
using BillingConsole.Engine.Signing;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Notifications;
using BillingConsole.Jobs;
using BillingConsole.PayPage;
using BillingConsole.Tests.Gateways;
using BillingConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// A payment the bank wants the customer to authenticate (SCA), in Stripe mode against the Stripe stand-in: the renewal's
/// off-session charge is answered <c>requires_action</c>; dunning waits for the customer instead of retrying; the customer
/// opens the link from the email in chromium and confirms the payment with Stripe.js (a stand-in served in place of
/// js.stripe.com, whose confirmation reaches the stand-in's API through api.stripe.com); the invoice is paid once, whether
/// the page or Stripe's webhook reports the success first.
/// </summary>
public sealed class StripeAuthenticationEndToEndTests(ConsoleAppHost host, BrowserFixture browser) : IAsyncLifetime
{
    private const string PublishableKey = "pk_test_standin_51Sca";
    private const string StripeWebhookSecret = "whsec_test_stripe_0123456789";
    private const string IntentId = "pi_3ScaRenewal";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Stripe.js as far as the page uses it: confirmCardPayment confirms the intent at Stripe's API with the page's key.</summary>
    private const string StripeJsStandIn = """
        window.Stripe = function (key) {
          return {
            confirmCardPayment: async function (clientSecret) {
              const id = clientSecret.split('_secret_')[0];
              const response = await fetch('https://api.stripe.com/v1/payment_intents/' + id + '/confirm', {
                method: 'POST',
                headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
                body: 'key=' + encodeURIComponent(key) + '&client_secret=' + encodeURIComponent(clientSecret),
              });
              return { paymentIntent: await response.json() };
            },
          };
        };
        """;

    private readonly StripeStandIn _stripe = new();
    private DunningNode _node = null!;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        _stripe.Dispose();
    }

    private async Task StartAsync(string publishableKey)
    {
        _node = await DunningNode.StartAsync(host, "stripe_authentication", new Dictionary<string, string>
        {
            ["Gateway:Mode"] = "stripe",
            // Nothing here times out on purpose: room for a loaded machine's first calls to the stand-in.
            ["Gateway:ChargeTimeoutMs"] = "30000",
            ["Gateway:Stripe:ApiBase"] = _stripe.Url,
            ["Gateway:Stripe:ApiKey"] = StripeStandIn.ApiKey,
            ["Gateway:Stripe:PublishableKey"] = publishableKey,
            ["Gateway:Webhooks:Secrets:stripe"] = StripeWebhookSecret,
        });
        await _node.UsePolicyAsync(policy => policy with { Mode = RetryMode.Fixed, FixedIntervalsDays = [2, 5, 9, 20] });
    }

    /// <summary>A customer whose renewal Stripe answers requires_action, billed and told; the customer and the case waiting for them.</summary>
    private async Task<(Customer Customer, DunningCase Case)> RenewalHeldForAuthenticationAsync()
    {
        var (_, price) = await _node.Data.PlanAsync(20m);
        var customer = await _node.Data.CustomerAsync("cus_Sca/pm_card_");
        await _node.Data.SubscriptionAsync(customer, price);
        _stripe.ChargeAnswers(IntentId, "requires_action");
        _stripe.IntentAnswers(IntentId, "requires_action");
        await _node.RunBillingAsync();
        await using var db = _node.Database.NewContext();
        return (customer, await db.DunningCases.AsNoTracking().SingleAsync(c => c.CustomerId == customer.Id, Ct));
    }

    [Fact]
    public async Task A_payment_the_bank_holds_is_not_retried_off_session_and_is_paid_once_when_the_customer_confirms_it_with_Stripe_js()
    {
        await StartAsync(PublishableKey);
        var (customer, held) = await RenewalHeldForAuthenticationAsync();
        for (var day = 1; day <= 12; day++)
        {
            _node.Clock.Advance(TimeSpan.FromDays(1));
            await _node.RunTheDaysJobsAsync();
        }

        // Waiting for the customer, not retried: the renewal's is the only charge Stripe was sent, past three retry days.
        Assert.Single(_stripe.Requests(StripeStandIn.IntentsPath));
        await using (var db = _node.Database.NewContext())
        {
            var waiting = await db.DunningCases.AsNoTracking().SingleAsync(c => c.Id == held.Id, Ct);
            Assert.Equal((DunningStatus.AwaitingPaymentMethod, DeclineCodes.AuthenticationRequired, (DateTimeOffset?)null),
                (waiting.Status, waiting.LastDeclineCode, waiting.NextAttemptAt));
        }
        var asked = Assert.Single(_node.EmailsTo(customer.Email), m => m.Subject!.StartsWith("Please confirm your payment", StringComparison.Ordinal));

        var confirmations = new List<Dictionary<string, Microsoft.Extensions.Primitives.StringValues>>();
        await using var context = await browser.NewContextAsync(_node.BaseAddress);
        await context.AddInitScriptAsync("""
            window.__violations = [];
            document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
            """);
        await context.RouteAsync(PayPageHtml.StripeJsUrl, route => route.FulfillAsync(new() { ContentType = "application/javascript", Body = StripeJsStandIn }));
        await context.RouteAsync($"https://api.stripe.com/v1/payment_intents/{IntentId}/confirm", async route =>
        {
            confirmations.Add(QueryHelpers.ParseQuery(route.Request.PostData));
            // The bank approved: from now on Stripe reports the intent succeeded.
            _stripe.IntentAnswers(IntentId, "succeeded");
            await route.FulfillAsync(new()
            {
                ContentType = "application/json",
                Headers = new Dictionary<string, string> { ["Access-Control-Allow-Origin"] = "*" },
                Body = System.Text.Json.JsonSerializer.Serialize(StripeStandIn.Intent(IntentId, "succeeded")),
            });
        });
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(390, 844);
        var opened = await page.GotoAsync(_node.PayLinkIn(asked));

        var policy = await opened!.HeaderValueAsync("content-security-policy");
        Assert.Contains("script-src 'self' 'nonce-", policy);
        Assert.Contains("https://js.stripe.com", policy);
        await Expect(page.GetByText($"Your bank asks you to confirm the payment of")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "pay-page-stripe-confirm-390");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm the payment" }).ClickAsync();

        await Expect(page.GetByText("The invoice was paid.")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "pay-page-stripe-confirmed-390");
        Assert.Empty(await page.EvaluateAsync<string[]>("window.__violations"));
        var confirmation = Assert.Single(confirmations);
        Assert.Equal((PublishableKey, $"{IntentId}_secret_standin"), (confirmation["key"].ToString(), confirmation["client_secret"].ToString()));

        // Stripe's webhook about the same success comes afterwards and changes nothing.
        string key;
        await using (var db = _node.Database.NewContext())
            key = await db.PaymentAttempts.Where(a => a.InvoiceId == held.InvoiceId).Select(a => a.IdempotencyKey).SingleAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, await PostStripeEventAsync(WebhookEvents.Event("payment_intent.succeeded", key, objectId: IntentId)));
        await _node.RunAsync<NotificationDeliveryJob>(job => job.RunAsync(Ct));

        Assert.Single(_stripe.Requests(StripeStandIn.IntentsPath));
        Assert.Single(_node.EmailsTo(customer.Email), m => m.Subject!.StartsWith("Receipt", StringComparison.Ordinal));
        await using (var db = _node.Database.NewContext())
        {
            Assert.Equal(InvoiceStatus.Paid, await db.Invoices.Where(i => i.Id == held.InvoiceId).Select(i => i.Status).SingleAsync(Ct));
            Assert.Equal(1, await db.LedgerEntries.CountAsync(e => e.InvoiceId == held.InvoiceId && e.Account == LedgerAccount.Cash, Ct));
            var attempt = await db.PaymentAttempts.AsNoTracking().SingleAsync(a => a.InvoiceId == held.InvoiceId, Ct);
            Assert.Equal((PaymentAttemptStatus.Succeeded, IntentId), (attempt.Status, attempt.GatewayReference));
            Assert.Equal(DunningStatus.Recovered, await db.DunningCases.Where(c => c.Id == held.Id).Select(c => c.Status).SingleAsync(Ct));
            Assert.Equal(1, await db.Notifications.CountAsync(n => n.CustomerId == customer.Id && n.Kind == NotificationKinds.PaymentReceived, Ct));
        }
    }

    [Fact]
    public async Task When_Stripe_reports_the_success_first_the_pay_page_finds_nothing_left_to_confirm_and_changes_nothing()
    {
        await StartAsync(PublishableKey);
        var (customer, held) = await RenewalHeldForAuthenticationAsync();
        string key;
        await using (var db = _node.Database.NewContext())
            key = await db.PaymentAttempts.Where(a => a.InvoiceId == held.InvoiceId).Select(a => a.IdempotencyKey).SingleAsync(Ct);
        var link = _node.PayLinkIn(_node.EmailsTo(customer.Email).Single(m => m.Subject!.StartsWith("Please confirm", StringComparison.Ordinal)));

        // The customer confirmed in another tab; Stripe's webhook arrives before this page asks.
        _stripe.IntentAnswers(IntentId, "succeeded");
        Assert.Equal(HttpStatusCode.OK, await PostStripeEventAsync(WebhookEvents.Event("payment_intent.succeeded", key, objectId: IntentId)));
        using var client = new HttpClient { BaseAddress = _node.BaseAddress };
        using var response = await client.GetAsync(link, Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("Confirm the payment", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("stripe.com", response.Headers.GetValues("Content-Security-Policy").Single());

        await using var after = _node.Database.NewContext();
        Assert.Equal(1, await after.LedgerEntries.CountAsync(e => e.InvoiceId == held.InvoiceId && e.Account == LedgerAccount.Cash, Ct));
        Assert.Equal(DunningStatus.Recovered, await after.DunningCases.Where(c => c.Id == held.Id).Select(c => c.Status).SingleAsync(Ct));
    }

    [Fact]
    public async Task Without_a_publishable_key_the_page_says_it_cannot_confirm_the_payment_and_loads_no_script()
    {
        await StartAsync(publishableKey: "");
        var (customer, _) = await RenewalHeldForAuthenticationAsync();
        var link = _node.PayLinkIn(_node.EmailsTo(customer.Email).Single(m => m.Subject!.StartsWith("Please confirm", StringComparison.Ordinal)));

        using var client = new HttpClient { BaseAddress = _node.BaseAddress };
        using var response = await client.GetAsync(link, Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("which cannot be done on this page yet", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("stripe.com", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("Add a card with Stripe", html);
    }

    private async Task<HttpStatusCode> PostStripeEventAsync(string body)
    {
        using var client = new HttpClient { BaseAddress = _node.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/stripe") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookEvents.Signature(body, _node.Clock.GetUtcNow(), StripeWebhookSecret));
        using var response = await client.SendAsync(request, Ct);
        return response.StatusCode;
    }
}
