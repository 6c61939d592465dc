using System.Net;
using System.Text;
using BillingConsole.Persistence.Idempotency;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace BillingConsole.Tests.Api;

public sealed class IdempotencyApiTests(ConsoleAppHost host) : ApiTestBase(host)
{
    [Fact]
    public async Task The_same_key_and_body_gets_the_first_answer_and_acts_once()
    {
        var key = Guid.NewGuid();
        var body = Api.NewCustomer();

        var first = await Api.PostAsync("/api/v1/customers", body, key);
        var second = await Api.PostAsync("/api/v1/customers", body, key);

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (first.StatusCode, second.StatusCode));
        Assert.Equal(await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), await second.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", Assert.Single(second.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(1, (await Api.CountRowsAsync()).Customers);
    }

    [Fact]
    public async Task The_same_request_written_differently_is_still_the_same_request()
    {
        var key = Guid.NewGuid();
        var email = $"ada+{Guid.NewGuid():N}@example.com";
        var compact = $$"""{"name":"{{Api.CustomerName}}","email":"{{email}}","currency":"USD"}""";
        var spaced = $$"""{ "currency" : "USD",  "email": "{{email}}", "name": "{{Api.CustomerName}}", "ignored": true }""";

        var first = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", new StringContent(compact, Encoding.UTF8, "application/json"), key);
        var second = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", new StringContent(spaced, Encoding.UTF8, "application/json"), key);

        Assert.Equal(await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), await second.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(1, (await Api.CountRowsAsync()).Customers);
    }

    [Fact]
    public async Task The_same_key_with_another_body_or_endpoint_is_a_conflict()
    {
        var key = Guid.NewGuid();
        var customer = await Api.ReadAsync<BillingConsole.Engine.Commands.CustomerView>(await Api.PostAsync("/api/v1/customers", Api.NewCustomer(), key),
            HttpStatusCode.Created);

        var otherBody = await Api.PostAsync("/api/v1/customers", Api.NewCustomer(), key);
        var otherEndpoint = await Api.SendAsync(HttpMethod.Patch, $"/api/v1/customers/{customer.Id}", new { name = "Grace" }, key);

        foreach (var response in new[] { otherBody, otherEndpoint })
            Assert.Equal("This Idempotency-Key was already used with a different request.",
                (await Problem.ReadAsync(response, HttpStatusCode.Conflict)).Detail);
        Assert.Equal(1, (await Api.CountRowsAsync()).Customers);
        Assert.Equal(Api.CustomerName, await Api.WithDbAsync(db => db.Customers.Where(c => c.Id == customer.Id).Select(c => c.Name).SingleAsync()));
    }

    [Fact]
    public async Task A_request_that_failed_stores_nothing_so_the_key_can_be_used_again()
    {
        var customer = await Api.CreateCustomerAsync();
        var key = Guid.NewGuid();

        var failed = await Api.PostAsync("/api/v1/subscriptions", new { customerId = customer.Id, priceId = Guid.NewGuid(), quantity = 1 }, key);
        var price = await Api.CreatePriceAsync("Basic", 30m);
        var retried = await Api.PostAsync("/api/v1/subscriptions", new { customerId = customer.Id, priceId = price, quantity = 1 }, key);

        await Problem.ReadAsync(failed, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal(1, (await Api.CountRowsAsync(customer.Id)).Subscriptions);
    }

    [Fact]
    public async Task A_hundred_concurrent_requests_with_one_key_act_once_and_get_one_answer()
    {
        var key = Guid.NewGuid();
        var body = Api.NewCustomer();

        var responses = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Api.PostAsync("/api/v1/customers", body, key)));

        var answers = await Task.WhenAll(responses.Select(async r => ((int)r.StatusCode, await r.Content.ReadAsStringAsync())));
        Assert.Single(answers.Distinct());
        Assert.Equal(201, answers[0].Item1);
        Assert.Equal(1, (await Api.CountRowsAsync()).Customers);
        Assert.Equal(1, (await Api.CountRowsAsync()).AuditEntries);
    }

    [Fact]
    public async Task A_completed_answer_is_cached_in_Redis_for_a_day_and_served_from_PostgreSQL_without_it()
    {
        var key = Guid.NewGuid();
        var body = Api.NewCustomer();
        var first = await Api.PostAsync("/api/v1/customers", body, key);
        var redis = Host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();

        var ttl = await redis.KeyTimeToLiveAsync(IdempotencyStore.CacheKey(key));
        await redis.KeyDeleteAsync(IdempotencyStore.CacheKey(key));
        var replay = await Api.PostAsync("/api/v1/customers", body, key);

        Assert.InRange(ttl!.Value, TimeSpan.FromHours(23), TimeSpan.FromHours(24));
        Assert.Equal(await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), await replay.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.True(await redis.KeyExistsAsync(IdempotencyStore.CacheKey(key)), "the replay puts the answer back in the cache");
    }
}

[CollectionDefinition(DisableParallelization = true)]
public sealed class RedisOutage;

/// <summary>Stops the run's Redis, so it runs alone: other tests may use Redis too.</summary>
[Collection(typeof(RedisOutage))]
public sealed class IdempotencyWithoutRedisTests(ConsoleAppHost host) : ApiTestBase(host)
{
    [Fact]
    public async Task With_Redis_stopped_idempotency_still_holds()
    {
        var customer = await Api.CreateCustomerAsync();
        var price = await Api.CreatePriceAsync("Basic", 30m);
        var key = Guid.NewGuid();
        var concurrentKey = Guid.NewGuid();
        var body = new { customerId = customer.Id, priceId = price, quantity = 1 };
        try
        {
            await TestServers.StopRedisAsync();

            var first = await Api.PostAsync("/api/v1/subscriptions", body, key);
            var replay = await Api.PostAsync("/api/v1/subscriptions", body, key);
            var conflict = await Api.PostAsync("/api/v1/subscriptions", body with { quantity = 2 }, key);
            var concurrent = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Api.PostAsync("/api/v1/subscriptions", body, concurrentKey)));

            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
            Assert.Equal(await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), await replay.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            await Problem.ReadAsync(conflict, HttpStatusCode.Conflict);
            var answers = await Task.WhenAll(concurrent.Select(async r => ((int)r.StatusCode, await r.Content.ReadAsStringAsync())));
            Assert.Single(answers.Distinct());
            Assert.Equal(201, answers[0].Item1);
            Assert.Equal(2, (await Api.CountRowsAsync(customer.Id)).Subscriptions);
            Assert.Equal(2, await Api.WithDbAsync(db => db.IdempotencyKeys.CountAsync(k => k.Key == key || k.Key == concurrentKey)));
        }
        finally
        {
            await TestServers.StartRedisAsync();
        }
    }
}
