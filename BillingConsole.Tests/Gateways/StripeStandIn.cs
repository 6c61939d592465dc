using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace BillingConsole.Tests.Gateways;

/// <summary>
/// A local HTTP server answering the few Stripe API calls the gateway makes, with the bodies Stripe's API reference
/// documents (payment_intent objects, search results, card_error errors with the intent attached), and a record of what
/// it was sent.
/// </summary>
public sealed class StripeStandIn : IDisposable
{
    public const string ApiKey = "sk_test_standin_4eC39HqLyjWDarjtT1zdp7dc";
    public const string IntentsPath = "/v1/payment_intents";
    public const string SearchPath = "/v1/payment_intents/search";
    public const string RefundsPath = "/v1/refunds";
    public const string CheckoutSessionsPath = "/v1/checkout/sessions";
    public const string CustomersPath = "/v1/customers";

    private readonly WireMockServer _server = WireMockServer.Start();

    public string Url => _server.Url!;

    public void Reset() => _server.Reset();

    /// <summary>Answers a charge with a PaymentIntent in <paramref name="status"/>.</summary>
    public void ChargeAnswers(string intentId, string status = "succeeded", TimeSpan? delay = null) =>
        Answer(IntentsPath, "POST", 200, Intent(intentId, status), delay);

    /// <summary>Answers a charge with Stripe's 402 card_error, the failed intent attached.</summary>
    public void ChargeDeclines(string intentId, string? code, string? declineCode, string message) =>
        Answer(IntentsPath, "POST", 402, new
        {
            error = new
            {
                type = "card_error",
                code,
                decline_code = declineCode,
                message,
                payment_intent = Intent(intentId, "requires_payment_method"),
                doc_url = "https://docs.stripe.com/error-codes/card-declined",
            },
        });

    /// <summary>Answers with Stripe's api_error body and <paramref name="status"/>.</summary>
    public void FailsWith(string path, string method, int status) =>
        Answer(path, method, status, new { error = new { type = "api_error", message = "An unknown error occurred." } });

    /// <summary>The search finds these intents (none: an empty result).</summary>
    public void SearchFinds(params object[] intents) =>
        Answer(SearchPath, "GET", 200, new { @object = "search_result", data = intents, has_more = false, next_page = (string?)null, url = SearchPath });

    /// <summary>Answers the creation of a Checkout Session with one at <paramref name="url"/>.</summary>
    public void CheckoutSessionAnswers(string sessionId, string url) =>
        Answer(CheckoutSessionsPath, "POST", 200, new { id = sessionId, @object = "checkout.session", mode = "setup", status = "open", url });

    /// <summary>Answers the retrieval of a succeeded SetupIntent of <paramref name="stripeCustomer"/>, its card expanded.</summary>
    public void SetupIntentAnswers(string setupIntentId, string stripeCustomer, Guid customerId, string paymentMethodId, string last4) =>
        Answer($"/v1/setup_intents/{setupIntentId}", "GET", 200, new
        {
            id = setupIntentId,
            @object = "setup_intent",
            status = "succeeded",
            customer = stripeCustomer,
            metadata = new Dictionary<string, string> { ["customer_id"] = customerId.ToString() },
            payment_method = new
            {
                id = paymentMethodId,
                @object = "payment_method",
                type = "card",
                customer = stripeCustomer,
                card = new { brand = "visa", last4, exp_month = 12, exp_year = 2031 },
            },
        });

    /// <summary>
    /// Answers the retrieval of intent <paramref name="intentId"/> with <paramref name="status"/>, in place of what it answered
    /// before (one mapping per intent).
    /// </summary>
    public void IntentAnswers(string intentId, string status) =>
        Answer($"{IntentsPath}/{intentId}", "GET", 200, Intent(intentId, status), mapping: new Guid(MD5.HashData(Encoding.UTF8.GetBytes(intentId))));

    public void RefundAnswers(string refundId, string status = "succeeded") =>
        Answer(RefundsPath, "POST", 200, new { id = refundId, @object = "refund", status, amount = 500, currency = "usd" });

    public static object Intent(string id, string status, long amount = 2000, string? declineCode = null) => new
    {
        id,
        @object = "payment_intent",
        amount,
        currency = "usd",
        status,
        client_secret = $"{id}_secret_standin",
        customer = "cus_standin",
        payment_method = "pm_standin",
        last_payment_error = declineCode is null ? null : new { type = "card_error", code = "card_declined", decline_code = declineCode, message = "Your card was declined." },
        metadata = new Dictionary<string, string>(),
    };

    /// <summary>
    /// The requests to <paramref name="path"/> once at least <paramref name="atLeast"/> have been answered: the server logs a
    /// request only after answering it, which for a delayed answer is after the caller gave up.
    /// </summary>
    public async Task<IReadOnlyList<ILogEntry>> AnsweredAsync(string path, int atLeast, CancellationToken ct)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(ct);
        patience.CancelAfter(TimeSpan.FromSeconds(30));
        while (Requests(path).Count < atLeast) await Task.Delay(50, patience.Token);
        return Requests(path);
    }

    public IReadOnlyList<ILogEntry> Requests(string path) => [.. _server.LogEntries.Where(e => e.RequestMessage.Path == path)];

    /// <summary>The form fields of a request body (Stripe's API takes application/x-www-form-urlencoded).</summary>
    public static Dictionary<string, StringValues> Form(ILogEntry request) => QueryHelpers.ParseQuery(request.RequestMessage.Body);

    public static string Header(ILogEntry request, string name) =>
        string.Join(",", request.RequestMessage.Headers!.First(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value);

    private void Answer(string path, string method, int status, object body, TimeSpan? delay = null, Guid? mapping = null)
    {
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json")
            .WithHeader("Request-Id", $"req_{Guid.NewGuid():N}").WithBody(JsonSerializer.Serialize(body));
        if (delay is { } wait) response = response.WithDelay(wait);
        var given = _server.Given(Request.Create().WithPath(path).UsingMethod(method));
        if (mapping is { } guid) given = given.WithGuid(guid);
        given.RespondWith(response);
    }

    public void Dispose() => _server.Stop();
}
