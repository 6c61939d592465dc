using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Api;

/// <summary>
/// Talks to the shared console host over real HTTP with an API key of its own, and makes the catalog and customers a test
/// needs, so no test depends on demo data or on another test's rows.
/// </summary>
public sealed class ApiTestClient(ConsoleAppHost host, HttpClient http, CreatedApiKey key)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public HttpClient Http { get; } = http;
    public CreatedApiKey Key { get; } = key;
    public ConsoleAppHost Host { get; } = host;

    public static async Task<ApiTestClient> CreateAsync(ConsoleAppHost host, string name)
    {
        using var scope = host.Services.CreateScope();
        var key = await scope.ServiceProvider.GetRequiredService<ApiKeys>().CreateAsync($"{name}-{Guid.NewGuid():N}"[..40]);
        var http = host.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        return new ApiTestClient(host, http, key);
    }

    public static StringContent JsonBody(object body) => new(JsonSerializer.Serialize(body, Json), Encoding.UTF8, "application/json");

    /// <summary>Sends with a fresh Idempotency-Key unless one is given.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null, Guid? idempotencyKey = null) =>
        SendRawAsync(method, path, body is null ? null : JsonBody(body), idempotencyKey ?? Guid.NewGuid());

    public async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, HttpContent? content, Guid? idempotencyKey)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (idempotencyKey is { } key) request.Headers.Add("Idempotency-Key", key.ToString());
        return await Http.SendAsync(request);
    }

    public Task<HttpResponseMessage> PostAsync(string path, object? body = null, Guid? idempotencyKey = null) =>
        SendAsync(HttpMethod.Post, path, body, idempotencyKey);

    public async Task<T> ReadAsync<T>(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonSerializer.Deserialize<T>(text, Json)!;
    }

    public async Task<CustomerView> CreateCustomerAsync(string currency = "USD", string? externalRef = null)
    {
        var response = await PostAsync("/api/v1/customers", NewCustomer(currency, externalRef));
        return await ReadAsync<CustomerView>(response, HttpStatusCode.Created);
    }

    /// <summary>The name of every customer this client creates: unique to the client, so its rows can be counted.</summary>
    public string CustomerName => $"Ada {Key.Prefix}";

    public object NewCustomer(string currency = "USD", string? externalRef = null) => new
    {
        name = CustomerName,
        email = $"ada+{Guid.NewGuid():N}@example.com",
        currency,
        address = new { line1 = "12 Analytical Row", city = "London", postalCode = "EC1A 1BB", country = "GB" },
        externalRef,
    };

    public async Task<SubscriptionChangeView> CreateSubscriptionAsync(Guid customerId, Guid priceId, int quantity = 1, int? trialDays = 0)
    {
        var response = await PostAsync("/api/v1/subscriptions", new { customerId, priceId, quantity, trialDays });
        return await ReadAsync<SubscriptionChangeView>(response, HttpStatusCode.Created);
    }

    /// <summary>A new plan with one price, written straight to the catalog, so that tests of other things do not go through the catalog's API.</summary>
    public async Task<Guid> CreatePriceAsync(string planName, decimal amount, string currency = "USD", BillingInterval interval = BillingInterval.Month,
        int trialDays = 0, bool retired = false)
    {
        using var scope = Host.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
        var plan = new Plan($"{planName.ToLowerInvariant()}-{Guid.NewGuid():N}", planName, "test plan");
        var price = plan.AddPrice(new Money(amount, currency), interval, trialDays);
        if (retired) price.Retire();
        db.Plans.Add(plan);
        await db.SaveChangesAsync();
        return price.Id;
    }

    /// <summary>
    /// Rows an API call by this client could have written: its customers (by the name <see cref="NewCustomer"/> gives them),
    /// everything belonging to <paramref name="customerId"/>, and the audit entries of its key. Scoped this way because
    /// other test classes write to the same database at the same time.
    /// </summary>
    public async Task<RowCounts> CountRowsAsync(Guid? customerId = null)
    {
        using var scope = Host.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
        var id = customerId ?? Guid.Empty;
        var actor = Actor.ApiKey(Key.Name).Name;
        return new RowCounts(
            await db.Customers.CountAsync(c => c.Name == CustomerName),
            await db.PaymentMethods.CountAsync(p => p.CustomerId == id),
            await db.Subscriptions.CountAsync(s => s.CustomerId == id),
            await db.Invoices.CountAsync(i => i.CustomerId == id),
            await db.LedgerEntries.CountAsync(e => e.CustomerId == id),
            await db.AuditLog.CountAsync(a => a.Actor == actor));
    }

    public async Task<bool> IdempotencyKeyStoredAsync(Guid key) => await WithDbAsync(db => db.IdempotencyKeys.AnyAsync(k => k.Key == key));

    public async Task<T> WithDbAsync<T>(Func<BillingDbContext, Task<T>> query)
    {
        using var scope = Host.Services.CreateScope();
        return await query(scope.ServiceProvider.GetRequiredService<BillingDbContext>());
    }
}

public sealed record RowCounts(int Customers, int PaymentMethods, int Subscriptions, int Invoices, int LedgerEntries, int AuditEntries);

/// <summary>An RFC 9457 problem as the API sends it.</summary>
public sealed record Problem(int Status, string? Title, string? Detail, Dictionary<string, string[]>? Errors)
{
    public static async Task<Problem> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonSerializer.Deserialize<Problem>(text, ApiTestClient.Json)!;
    }
}
