using System.Net;
using System.Text.Json;
using BillingConsole.Engine.Events;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Api;

/// <summary>Registering event endpoints through the upstream API: the secret once, and a private address refused with a sentence.</summary>
public sealed class EventEndpointApiTests(ConsoleAppHost host) : ApiTestBase(host)
{
    [Fact]
    public async Task An_endpoint_on_a_private_network_is_a_400_naming_the_url_and_nothing_is_registered()
    {
        var url = $"http://10.{Random.Shared.Next(1, 250)}.0.7/events";

        var response = await Api.PostAsync("/api/v1/event-endpoints", new { url, eventTypes = new[] { EventTypes.InvoicePaid } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var message = problem.RootElement.GetProperty("errors").GetProperty("url")[0].GetString();
        Assert.StartsWith($"{url[7..^7]} is a loopback, link-local or private address; events are only sent there when an admin allows its network", message);
        Assert.Equal(0, await Api.WithDbAsync(db => db.EventEndpoints.CountAsync(e => e.Url == url)));
    }

    [Fact]
    public async Task A_registered_endpoint_answers_with_its_secret_once_and_is_listed_without_it()
    {
        await using var receiver = await EventReceiver.StartAsync();

        var registered = await Api.ReadAsync<RegisteredEventEndpoint>(
            await Api.PostAsync("/api/v1/event-endpoints", new { url = receiver.Url, eventTypes = new[] { EventTypes.InvoicePaid }, description = "Ledger sync" }),
            HttpStatusCode.Created);

        Assert.StartsWith("whsec_", registered.Secret);
        Assert.Equal((receiver.Url, true), (registered.Endpoint.Url, registered.Endpoint.Enabled));
        var list = await Api.Http.GetStringAsync("/api/v1/event-endpoints", TestContext.Current.CancellationToken);
        Assert.Contains(registered.Endpoint.Id.ToString(), list);
        Assert.DoesNotContain(registered.Secret, list);
        await Api.WithDbAsync(async db =>
        {
            var endpoint = await db.EventEndpoints.SingleAsync(e => e.Id == registered.Endpoint.Id);
            endpoint.Disable("Test over", DateTimeOffset.UtcNow);
            return await db.SaveChangesAsync();
        });
    }
}
