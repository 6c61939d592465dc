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
/// A second node (in memory) on the run's database with small limits: 3 API requests per key and 2 webhook deliveries per
/// address per minute. The shared host keeps its generous defaults, so other tests are not limited.
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
