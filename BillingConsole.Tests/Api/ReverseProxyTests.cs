using System.Net;
using System.Text;
using BillingConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace BillingConsole.Tests.Api;

/// <summary>
/// Behind the reverse proxy the webhook allow-list sees the client the proxy names, and only the configured proxy is believed:
/// anyone else sending X-Forwarded-For is judged by their own address.
/// </summary>
public sealed class ReverseProxyTests(ConsoleAppHost host) : IAsyncLifetime
{
    private const string Proxy = "10.0.0.5";
    private WebApplicationFactory<Program> _node = null!;

    public ValueTask InitializeAsync()
    {
        _node = InMemoryNode.Create(new Dictionary<string, string>
        {
            ["ReverseProxy:KnownProxies:0"] = Proxy,
            ["Gateway:Webhooks:AllowedNetworks:0"] = "198.51.100.0/24",
        });
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await InMemoryNode.DisposeAsync(_node, host);

    [Theory]
    // The gateway, through the proxy: past the allow-list, on to the signature check (this one is not signed).
    [InlineData(Proxy, "198.51.100.7", HttpStatusCode.BadRequest)]
    // Another network, through the proxy.
    [InlineData(Proxy, "203.0.113.9", HttpStatusCode.Forbidden)]
    // Not the proxy: its X-Forwarded-For is not believed, and its own address is not allowed.
    [InlineData("203.0.113.50", "198.51.100.7", HttpStatusCode.Forbidden)]
    // Straight from the gateway's network, no proxy in between.
    [InlineData("198.51.100.8", null, HttpStatusCode.BadRequest)]
    public async Task The_allow_list_judges_the_client_the_known_proxy_forwards(string connectedFrom, string? forwardedFor, HttpStatusCode expected)
    {
        using var client = new HttpClient(_node.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse(connectedFrom)))
        {
            BaseAddress = _node.Server.BaseAddress,
        };
        using var delivery = new HttpRequestMessage(HttpMethod.Post, "/hooks/sandbox")
        {
            Content = new StringContent("""{"id":"evt_proxy","type":"ping"}""", Encoding.UTF8, "application/json"),
        };
        delivery.Headers.Add("Stripe-Signature", "t=1,v1=00");
        if (forwardedFor is not null) delivery.Headers.Add("X-Forwarded-For", forwardedFor);

        using var answer = await client.SendAsync(delivery, TestContext.Current.CancellationToken);

        Assert.Equal(expected, answer.StatusCode);
    }
}
