using BillingConsole.Domain.Tax;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using BillingConsole.Api.Webhooks;
using BillingConsole.Engine.Signing;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BillingConsole.Tests.Api;

/// <summary>
/// Drives API calls with an API key, signed and forged webhooks, card tokens attached and charged, and a card number that is
/// refused, on a node that keeps everything logged at Debug and up; then no log line or property may carry the key, the
/// signing secret, a signature, a token, a card number or a bearer token.
/// </summary>
public sealed partial class SecretsInLogsTests(ConsoleAppHost host) : IAsyncLifetime
{
    private readonly CapturedLogs _logs = new();
    private WebApplicationFactory<Program> _node = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _node = InMemoryNode.Create(new Dictionary<string, string> { ["Gateway:ChargeTimeoutMs"] = "300" }, services => services
            .AddSingleton<ILoggerProvider>(_logs)
            .AddLogging(logging => logging.AddFilter<CapturedLogs>(null, LogLevel.Debug)));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await InMemoryNode.DisposeAsync(_node, host);

    [Fact]
    public async Task No_secret_token_or_card_number_reaches_the_logs()
    {
        var key = await NewApiKeyAsync();
        using var bearer = Client(http => http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key));
        using var header = Client(http => http.DefaultRequestHeaders.Add("X-Api-Key", key.Key));
        using var wrongKey = Client(http => http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key[..^4] + "0000"));
        var token = "pm_ok_" + Guid.NewGuid().ToString("N");
        const string card = "4242424242424242";

        var created = await bearer.SendAsync(Command(HttpMethod.Post, "/api/v1/customers", new { name = "Log Reader", email = "logs@example.com", currency = "USD" }), Ct);
        var customerId = (await Read<CustomerView>(created, HttpStatusCode.Created)).Id;
        await Read<PaymentMethodView>(await header.SendAsync(Command(HttpMethod.Post, $"/api/v1/customers/{customerId}/payment-methods",
            new { token, brand = "visa", last4 = "4242", expMonth = 12, expYear = 2031 }), Ct), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.BadRequest, (await bearer.SendAsync(Command(HttpMethod.Patch, $"/api/v1/customers/{customerId}",
            new { name = card }), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongKey.GetAsync($"/api/v1/customers/{customerId}/invoices", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await header.GetAsync($"/api/v1/customers/{customerId}/invoices", Ct)).StatusCode);

        var signed = await DeliverWebhookAsync(ConsoleAppHost.WebhookSecret);
        var forged = await DeliverWebhookAsync("whsec_forged_0000000000");

        var (timeoutToken, declineToken) = await ChargeTwoInvoicesAsync();

        var entries = _logs.Logger.Entries;
        var lines = entries.Select(e => string.Join(" | ", [e.Message, .. e.Properties.Select(p => $"{p.Key}={p.Value}")])).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine($"{lines.Count} log entries scanned");
        Assert.True(lines.Count > 20, $"Only {lines.Count} entries were captured: the scan would prove nothing.");
        Assert.Contains(entries, e => e.Message == WebhookEndpoints.SignatureFailedMessage);
        Assert.Contains(entries, e => e.Message.Contains(SandboxTimeoutCode));
        var secrets = new Dictionary<string, string>
        {
            ["the API key"] = key.Key,
            ["the API key's secret"] = key.Key.Split('_')[2],
            ["the webhook signing secret"] = ConsoleAppHost.WebhookSecret,
            ["a webhook signature"] = signed.Signature,
            ["a forged webhook signature"] = forged.Signature,
            ["the attached card token"] = token,
            ["a charged card token"] = timeoutToken,
            ["a declined card token"] = declineToken,
            ["the card number"] = card,
        };
        var leaks = (from line in lines
                     from secret in secrets
                     where line.Contains(secret.Value, StringComparison.Ordinal)
                     select $"{secret.Key}: {line}")
            .Concat(lines.Where(CardNumbers.LooksLikeCardNumber).Select(l => $"a card-like number: {l}"))
            .Concat(lines.Where(l => BearerToken().IsMatch(l)).Select(l => $"a bearer token or JWT: {l}"))
            .ToList();
        Assert.True(leaks.Count == 0, string.Join("\n", leaks));
    }

    private const string SandboxTimeoutCode = "ERR_GATEWAY_TIMEOUT";

    [GeneratedRegex(@"Bearer\s+\S|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")]
    private static partial Regex BearerToken();

    private HttpClient Client(Action<HttpClient> authenticate)
    {
        var client = _node.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        authenticate(client);
        return client;
    }

    private async Task<CreatedApiKey> NewApiKeyAsync()
    {
        using var scope = host.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<ApiKeys>().CreateAsync($"logs-{Guid.NewGuid():N}"[..30]);
    }

    private static HttpRequestMessage Command(HttpMethod method, string path, object body)
    {
        var request = new HttpRequestMessage(method, path) { Content = ApiTestClient.JsonBody(body) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        return request;
    }

    private static async Task<T> Read<T>(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return System.Text.Json.JsonSerializer.Deserialize<T>(text, ApiTestClient.Json)!;
    }

    private async Task<(HttpStatusCode Status, string Signature)> DeliverWebhookAsync(string secret)
    {
        var body = $$"""{"id":"evt_{{Guid.NewGuid():N}}","type":"customer.updated","data":{"object":{"id":"cus_1"} } }""";
        var t = _node.Services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = Convert.ToHexStringLower(WebhookSignature.Compute(secret, t, Encoding.UTF8.GetBytes(body)));
        using var client = _node.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/sandbox") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation(WebhookSignature.Header, $"t={t},v1={signature}");
        return ((await client.SendAsync(request, Ct)).StatusCode, signature);
    }

    /// <summary>One invoice charged on a card whose gateway call times out, one on a card that is declined.</summary>
    private async Task<(string TimeoutToken, string DeclineToken)> ChargeTwoInvoicesAsync()
    {
        var data = new BillingTestData(() => TestDatabases.NewContext(TestServers.DefaultConnectionString),
            _node.Services.GetRequiredService<TimeProvider>().GetUtcNow());
        var (plan, price) = await data.PlanAsync(20m);
        var tokens = new List<string>();
        foreach (var (prefix, expected) in new[] { ("pm_timeout_", ChargeStatus.Unknown), ("pm_insufficient_funds_", ChargeStatus.Failed) })
        {
            var customer = await data.CustomerAsync(prefix);
            var subscription = await data.SubscriptionAsync(customer, price);
            await using var scope = _node.Services.CreateAsyncScope();
            var services = scope.ServiceProvider;
            var db = services.GetRequiredService<BillingDbContext>();
            var tracked = await db.Customers.Include(c => c.PaymentMethods).SingleAsync(c => c.Id == customer.Id, Ct);
            tokens.Add(tracked.PaymentMethods.Single().Token);
            var generated = services.GetRequiredService<InvoiceGenerator>()
                .Generate(BillableSubscription.From(subscription, BillablePrice.From(plan, price), null), [], tracked.CreditBalance, InvoiceTax.None, data.Now)!;
            var invoice = await services.GetRequiredService<InvoiceIssuer>().IssueAsync(tracked, generated, null, Ct);
            await db.SaveChangesAsync(Ct);
            var result = await services.GetRequiredService<PaymentProcessor>().ChargeAsync(invoice.Id, PaymentTrigger.Manual, Actor.System, Ct);
            Assert.Equal(expected, result.Status);
        }
        return (tokens[0], tokens[1]);
    }
}
