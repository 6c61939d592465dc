using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using BillingConsole.Engine.Signing;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>Gateway events as Stripe sends them to <c>/hooks/{gateway}</c>, and their signature header.</summary>
public static class WebhookEvents
{
    public static string Event(string type, string key, string? eventId = null, string? declineCode = null, string? objectId = null)
    {
        var payment = new JsonObject { ["id"] = objectId ?? "pi_" + Guid.NewGuid().ToString("N"), ["metadata"] = new JsonObject { ["idempotency_key"] = key } };
        if (declineCode is not null) payment["last_payment_error"] = new JsonObject { ["decline_code"] = declineCode };
        return new JsonObject
        {
            ["id"] = eventId ?? "evt_" + Guid.NewGuid().ToString("N"),
            ["type"] = type,
            ["created"] = 1_700_000_000,
            ["data"] = new JsonObject { ["object"] = payment },
        }.ToJsonString();
    }

    public static string Signature(string body, DateTimeOffset at, string secret = ConsoleAppHost.WebhookSecret) =>
        Signature(Encoding.UTF8.GetBytes(body), at, secret);

    public static string Signature(byte[] body, DateTimeOffset at, string secret = ConsoleAppHost.WebhookSecret) =>
        WebhookSignature.Sign(secret, at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), body);

    /// <summary>An event around a whole Stripe object (a refund, a charge, a dispute), as Stripe wraps it.</summary>
    public static string EventOf(string type, JsonObject dataObject) => new JsonObject
    {
        ["id"] = "evt_" + Guid.NewGuid().ToString("N"),
        ["object"] = "event",
        ["type"] = type,
        ["created"] = 1_700_000_000,
        ["data"] = new JsonObject { ["object"] = dataObject },
    }.ToJsonString();

    /// <summary>Posts a signed event to the host's /hooks/sandbox and returns the status it answered (applied, ignored, duplicate).</summary>
    public static async Task<string> PostSignedAsync(ConsoleAppHost host, string body)
    {
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/sandbox") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation(WebhookSignature.Header,
            Signature(body, host.Services.GetRequiredService<TimeProvider>().GetUtcNow()));
        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!["status"]!.GetValue<string>();
    }
}
