using System.Net;
using System.Net.Http.Headers;
using System.Text;
using BillingConsole.Engine.Commands;
using BillingConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Api;

/// <summary>
/// A second node (in memory) on the run's database with small limits: 3 API requests per key, 2 webhook deliveries per
/// address and 3 API keys that are not valid per address per minute. The shared host keeps its generous defaults, so other
/// tests are not limited.
/// </summary>
public sealed class RateLimitTests(ConsoleAppHost host) : IAsyncLifetime
{
    private WebApplicationFactory<Program> _node = null!;

    public ValueTask InitializeAsync()
    {
        _node = InMemoryNode.Create(new Dictionary<string, string>
        {
            ["RateLimits:ApiPerKey"] = "3",
            ["RateLimits:WebhooksPerAddress"] = "2",
            ["RateLimits:FailedApiKeysPerAddress"] = "3",
            ["RateLimits:WindowSeconds"] = "60",
        });
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await InMemoryNode.DisposeAsync(_node, host);

    [Fact]
    public async Task Each_API_key_gets_its_own_window_and_the_request_over_it_is_refused_with_nothing_written()
    {
        var busy = await ClientWithNewKeyAsync("rate-busy");
        var other = await ClientWithNewKeyAsync("rate-other");
        var missing = $"/api/v1/customers/{Guid.NewGuid()}/invoices";

        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.NotFound, (await busy.Client.GetAsync(missing, TestContext.Current.CancellationToken)).StatusCode);
        var refused = await busy.Client.SendAsync(CreateCustomer(busy.Name), TestContext.Current.CancellationToken);
        var otherKey = await other.Client.GetAsync(missing, TestContext.Current.CancellationToken);

        var problem = await Problem.ReadAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.Matches(@"^Too many requests: retry after \d+ seconds; nothing was changed\.$", problem.Detail);
        Assert.InRange(refused.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.NotFound, otherKey.StatusCode);
        await using var db = TestDatabases.NewContext(TestServers.DefaultConnectionString);
        Assert.Equal(0, await db.Customers.CountAsync(c => c.Name == busy.Name, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Webhook_deliveries_from_one_address_are_limited_too()
    {
        using var client = _node.CreateClient();
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var delivery = new HttpRequestMessage(HttpMethod.Post, "/hooks/sandbox")
            {
                Content = new StringContent("""{"id":"evt_rate","type":"ping"}""", Encoding.UTF8, "application/json"),
            };
            delivery.Headers.Add("Stripe-Signature", "t=1,v1=00");
            answers.Add((await client.SendAsync(delivery, TestContext.Current.CancellationToken)).StatusCode);
        }

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests], answers);
    }

    [Fact]
    public async Task An_address_guessing_API_keys_gets_429_once_its_failures_are_used_up_even_with_a_valid_key_while_other_addresses_go_on()
    {
        var valid = await ClientWithNewKeyAsync("rate-guessed");
        var path = $"/api/v1/customers/{Guid.NewGuid()}/invoices";
        using var guesser = ClientFrom("203.0.113.7");
        var answers = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 4; i++)
        {
            using var guess = new HttpRequestMessage(HttpMethod.Get, path);
            guess.Headers.Authorization = new AuthenticationHeaderValue("Bearer", $"bk_guess{i}_{Guid.NewGuid():N}");
            last = await guesser.SendAsync(guess, TestContext.Current.CancellationToken);
            answers.Add(last.StatusCode);
        }
        using var validFromGuesser = new HttpRequestMessage(HttpMethod.Get, path);
        validFromGuesser.Headers.Authorization = valid.Client.DefaultRequestHeaders.Authorization;
        var validThere = await guesser.SendAsync(validFromGuesser, TestContext.Current.CancellationToken);
        using var elsewhere = ClientFrom("198.51.100.2");
        using var validFromElsewhere = new HttpRequestMessage(HttpMethod.Get, path);
        validFromElsewhere.Headers.Authorization = valid.Client.DefaultRequestHeaders.Authorization;
        var validElsewhere = await elsewhere.SendAsync(validFromElsewhere, TestContext.Current.CancellationToken);

        var problem = await Problem.ReadAsync(last!, HttpStatusCode.TooManyRequests);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"4 guessed keys from one address: {string.Join(", ", answers.Select(a => (int)a))}; then a valid key from it: {(int)validThere.StatusCode}, from another address: {(int)validElsewhere.StatusCode}");
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], answers);
        Assert.Matches(@"^Too many API keys that are not valid came from this address: retry after \d+ seconds; nothing was changed\.$", problem.Detail);
        Assert.InRange(last!.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.TooManyRequests, validThere.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, validElsewhere.StatusCode);
    }

    /// <summary>A client of the node whose requests come from <paramref name="address"/>.</summary>
    private HttpClient ClientFrom(string address) =>
        new(_node.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse(address))) { BaseAddress = _node.Server.BaseAddress };

    private async Task<(HttpClient Client, string Name)> ClientWithNewKeyAsync(string name)
    {
        using var scope = host.Services.CreateScope();
        var key = await scope.ServiceProvider.GetRequiredService<ApiKeys>().CreateAsync($"{name}-{Guid.NewGuid():N}"[..30]);
        var client = _node.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        return (client, $"Rate {key.Prefix}");
    }

    private static HttpRequestMessage CreateCustomer(string name)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/customers")
        {
            Content = ApiTestClient.JsonBody(new { name, email = "rate@example.com", currency = "USD" }),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        return request;
    }
}
