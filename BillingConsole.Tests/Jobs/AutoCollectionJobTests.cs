using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Jobs;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Api;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Hangfire;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace BillingConsole.Tests.Jobs;

/// <summary>
/// End to end through the console host, its upstream API and its Hangfire workers, on a database and a clock of its own:
/// an invoice issued through the API (a new subscription's first period, which no billing run charges) is charged by the
/// auto-collection job once the documented delay has passed, and one of a customer sent their invoices is not.
/// </summary>
public sealed class AutoCollectionJobTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_invoice_issued_through_the_API_is_charged_by_the_jobs_after_the_collection_delay_unless_the_customer_is_sent_invoices()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("auto_collection_job");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var node = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Development");
            web.UseContentRoot(AppContext.BaseDirectory);
            web.UseSetting("ConnectionStrings:Billing", database.ConnectionString);
            web.UseSetting("Hangfire:PollingIntervalSeconds", "1");
            web.UseSetting("Hangfire:WorkerCount", "2");
            web.ConfigureServices(services => services.AddSingleton<TimeProvider>(clock));
        });
        try
        {
            using var http = node.CreateClient();
            await using (var scope = node.Services.CreateAsyncScope())
            {
                var key = await scope.ServiceProvider.GetRequiredService<ApiKeys>().CreateAsync("auto-collection-test", Ct);
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
            }
            var priceId = await PriceAsync(database);

            var charged = await SubscribeAsync(http, priceId, new { name = "Charged Ltd", email = "charged@example.test", currency = "USD" });
            var sent = await SubscribeAsync(http, priceId,
                new { name = "Sent Ltd", email = "sent@example.test", currency = "USD", collectionMethod = "send_invoice", daysUntilDue = 14 });
            var delay = TimeSpan.FromMinutes(node.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<BillingConsole.Configuration.BillingOptions>>()
                .CurrentValue.AutoCollectionDelayMinutes);
            Assert.Equal(TimeSpan.FromMinutes(60), delay);
            Assert.Equal(CollectionStage.ChargeScheduled, (await CollectionAsync(node, charged)).Stage);
            Assert.Equal(CollectionStage.AwaitingCustomer, (await CollectionAsync(node, sent)).Stage);

            clock.Advance(delay - TimeSpan.FromMinutes(1));
            await RunCollectionJobAsync(node, database);
            Assert.Equal((0, "open"), await InvoiceStateAsync(database, charged));

            clock.Advance(TimeSpan.FromMinutes(1));
            Assert.Equal(CollectionStage.ChargeDue, (await CollectionAsync(node, charged)).Stage);
            await RunCollectionJobAsync(node, database);

            Assert.Equal((1, "paid"), await InvoiceStateAsync(database, charged));
            Assert.Equal((0, "open"), await InvoiceStateAsync(database, sent));
            Assert.Equal(CollectionStage.AwaitingCustomer, (await CollectionAsync(node, sent)).Stage);
            await using var connection = await database.DataSource.OpenConnectionAsync(Ct);
            Assert.Equal("auto_collection", await connection.QuerySingleAsync<string>(
                "select trigger from payment_attempts where invoice_id = @charged and status = 'succeeded'", new { charged }));
        }
        finally
        {
            if (ConsoleAppHost.Shared is { } shared) await InMemoryNode.DisposeAsync(node, shared);
            else await node.DisposeAsync();
        }
    }

    private static async Task<Guid> PriceAsync(MigratedDatabase database)
    {
        await using var db = database.NewContext();
        var plan = new Plan($"auto-{Guid.NewGuid():N}"[..20], "Auto", "test plan");
        var price = plan.AddPrice(new Money(25m, "USD"), BillingInterval.Month, 0);
        db.Plans.Add(plan);
        await db.SaveChangesAsync(Ct);
        return price.Id;
    }

    /// <summary>A customer with a card that succeeds and a subscription without a trial; returns its first invoice.</summary>
    private static async Task<Guid> SubscribeAsync(HttpClient http, Guid priceId, object customer)
    {
        var created = await ReadAsync<CustomerView>(await PostAsync(http, "/api/v1/customers", customer), HttpStatusCode.Created);
        await ReadAsync<PaymentMethodView>(await PostAsync(http, $"/api/v1/customers/{created.Id}/payment-methods",
            new { token = $"pm_ok_{Guid.NewGuid():N}", brand = "visa", last4 = "4242", expMonth = 12, expYear = DateTime.UtcNow.Year + 3 }), HttpStatusCode.Created);
        var subscription = await ReadAsync<SubscriptionChangeView>(await PostAsync(http, "/api/v1/subscriptions",
            new { customerId = created.Id, priceId, quantity = 1, trialDays = 0 }), HttpStatusCode.Created);
        return subscription.Invoice!.Id!.Value;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = ApiTestClient.JsonBody(body) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        return await http.SendAsync(request, Ct);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return (await response.Content.ReadFromJsonAsync<T>(ApiTestClient.Json, Ct))!;
    }

    private static async Task<InvoiceCollection> CollectionAsync(WebApplicationFactory<Program> node, Guid invoiceId) =>
        (await node.Services.GetRequiredService<InvoiceDetails>().FindAsync(invoiceId, Ct))!.Collection;

    private static async Task<(int Attempts, string Status)> InvoiceStateAsync(MigratedDatabase database, Guid invoiceId)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(Ct);
        return await connection.QuerySingleAsync<(int, string)>("select attempt_count, status from invoices where id = @invoiceId", new { invoiceId });
    }

    /// <summary>Triggers the recurring job as its schedule would and waits until a Hangfire worker has run it.</summary>
    private static async Task RunCollectionJobAsync(WebApplicationFactory<Program> node, MigratedDatabase database)
    {
        var jobId = ((IRecurringJobManagerV2)node.Services.GetRequiredService<IRecurringJobManager>()).TriggerJob(RecurringJobRegistrar.AutoCollection);
        Assert.NotNull(jobId);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        await using var connection = await database.DataSource.OpenConnectionAsync(Ct);
        string? state;
        do
        {
            await Task.Delay(200, Ct);
            state = await connection.QuerySingleOrDefaultAsync<string>("select statename from hangfire.job where id = @id", new { id = long.Parse(jobId) });
        } while (state is not ("Succeeded" or "Failed") && DateTime.UtcNow < deadline);
        Assert.Equal("Succeeded", state);
    }
}
