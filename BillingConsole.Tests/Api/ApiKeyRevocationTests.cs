using System.Net;
using System.Net.Http.Headers;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Api;

/// <summary>
/// Valid API keys are remembered for <see cref="ApiKeyCache.Lifetime"/> so that a busy caller is not looked up in the database
/// on every request; revoking a key still stops it: at once on the node that revoked it, within that lifetime on the others.
/// </summary>
public sealed class ApiKeyRevocationTests(ConsoleAppHost host) : ApiTestBase(host)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("Ada Admin", "admin");
    private static readonly Guid UnknownCustomer = Guid.NewGuid();
    private static readonly string UnknownCustomerInvoices = $"/api/v1/customers/{UnknownCustomer}/invoices";

    [Fact]
    public async Task A_key_revoked_on_this_node_is_refused_at_once_and_the_revocation_is_audited()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Api.Http.GetAsync(UnknownCustomerInvoices, Ct)).StatusCode);

        bool revoked;
        using (var scope = Host.Services.CreateScope())
            revoked = await scope.ServiceProvider.GetRequiredService<ApiKeys>().RevokeAsync(Api.Key.Prefix, Admin, "Key leaked in a log", Ct);

        Assert.True(revoked);
        var refused = await Api.Http.GetAsync(UnknownCustomerInvoices, Ct);
        Assert.Contains("not valid", (await Problem.ReadAsync(refused, HttpStatusCode.Unauthorized)).Detail);
        var entry = await Api.WithDbAsync(db => db.AuditLog.SingleAsync(a => a.Action == "api_key.revoked" && a.EntityId == Api.Key.Id.ToString(), Ct));
        Assert.Equal(("Key leaked in a log", "Ada Admin"), (entry.Reason, entry.Actor));
    }

    [Fact]
    public async Task The_revoke_api_key_command_stops_a_key_the_running_node_remembers_within_the_cache_lifetime()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Api.Http.GetAsync(UnknownCustomerInvoices, Ct)).StatusCode);
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Billing"] = TestServers.DefaultConnectionString,
            ["Redis__Configuration"] = TestServers.RedisConfiguration,
        };

        var (exitCode, _, stderr) = await HostProcess.RunToExitAsync(HostProcess.StartInfo(environment, "revoke-api-key", Api.Key.Prefix), TimeSpan.FromSeconds(60));
        var revokedAt = DateTime.UtcNow;

        Assert.True(exitCode == 0, stderr);
        Assert.Contains($"API key {Api.Key.Prefix} revoked", stderr);
        // Another process revoked it: this node notices when what it remembers expires.
        HttpStatusCode status;
        do
        {
            status = (await Api.Http.GetAsync(UnknownCustomerInvoices, Ct)).StatusCode;
            if (status != HttpStatusCode.Unauthorized) await Task.Delay(250, Ct);
        } while (status != HttpStatusCode.Unauthorized && DateTime.UtcNow - revokedAt < ApiKeyCache.Lifetime + TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        var (againExitCode, _, againStderr) = await HostProcess.RunToExitAsync(HostProcess.StartInfo(environment, "revoke-api-key", Api.Key.Prefix), TimeSpan.FromSeconds(60));
        Assert.Equal(1, againExitCode);
        Assert.Contains("No API key in force", againStderr);
    }

    [Fact]
    public async Task A_key_revoked_on_another_node_works_here_for_at_most_the_cache_lifetime_and_a_wrong_key_never()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("api_key_cache");
        await using var here = EngineServices.Create(database);
        await using var elsewhere = EngineServices.Create(database);
        var key = await here.InScopeAsync<ApiKeys, CreatedApiKey>(keys => keys.CreateAsync("signup-service", Ct));
        var wrong = key.Key[..^1] + (key.Key[^1] == '0' ? '1' : '0');
        Assert.Equal(key.Id, (await here.InScopeAsync<ApiKeyVerifier, ApiKeyIdentity?>(keys => keys.AuthenticateAsync(key.Key, Ct)))?.Id);

        Assert.True(await elsewhere.InScopeAsync<ApiKeys, bool>(keys => keys.RevokeAsync(key.Prefix, Admin, "Rotated", Ct)));

        Assert.Null(await elsewhere.InScopeAsync<ApiKeyVerifier, ApiKeyIdentity?>(keys => keys.AuthenticateAsync(key.Key, Ct)));
        Assert.Null(await here.InScopeAsync<ApiKeyVerifier, ApiKeyIdentity?>(keys => keys.AuthenticateAsync(wrong, Ct)));
        here.Clock.Advance(ApiKeyCache.Lifetime - TimeSpan.FromSeconds(1));
        Assert.Equal(key.Id, (await here.InScopeAsync<ApiKeyVerifier, ApiKeyIdentity?>(keys => keys.AuthenticateAsync(key.Key, Ct)))?.Id);
        here.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await here.InScopeAsync<ApiKeyVerifier, ApiKeyIdentity?>(keys => keys.AuthenticateAsync(key.Key, Ct)));
    }

    [Fact]
    public async Task A_customer_without_invoices_gets_an_empty_page_and_an_unknown_one_a_404_with_or_without_a_cursor()
    {
        var customer = await Api.CreateCustomerAsync();

        var empty = await Api.ReadAsync<InvoicePage>(await Api.Http.GetAsync($"/api/v1/customers/{customer.Id}/invoices", Ct), HttpStatusCode.OK);
        var unknown = await Api.Http.GetAsync(UnknownCustomerInvoices, Ct);
        var unknownWithCursor = await Api.Http.GetAsync($"{UnknownCustomerInvoices}?startingAfter={Guid.NewGuid()}", Ct);

        Assert.Equal((0, false, (Guid?)null), (empty.Data.Count, empty.HasMore, empty.NextCursor));
        Assert.Contains($"No customer has the id {UnknownCustomer}", (await Problem.ReadAsync(unknown, HttpStatusCode.NotFound)).Detail);
        Assert.Contains($"No customer has the id {UnknownCustomer}", (await Problem.ReadAsync(unknownWithCursor, HttpStatusCode.NotFound)).Detail);
    }
}
