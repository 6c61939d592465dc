using System.Net;
using BillingConsole.GrpcApi.V1;
using BillingConsole.Tests.Infrastructure;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Api;

/// <summary>
/// The gRPC service on the shared console host's cleartext port, over real HTTP (gRPC-Web on HTTP/1.1, as that port speaks),
/// with the test's own API key: the same commands, idempotency keys and problems as the REST API, while the console keeps
/// answering on that port.
/// </summary>
public sealed class GrpcApiTests(ConsoleAppHost host) : ApiTestBase(host)
{
    private GrpcChannel Channel() => GrpcChannel.ForAddress(Host.BaseAddress, new GrpcChannelOptions
    {
        HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
        HttpVersion = HttpVersion.Version11,
        HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    });

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CallOptions Caller(Guid? idempotencyKey = null)
    {
        var metadata = new Metadata { { "authorization", $"Bearer {Api.Key.Key}" } };
        if (idempotencyKey is { } key) metadata.Add("idempotency-key", key.ToString());
        return new CallOptions(metadata, cancellationToken: Ct);
    }

    [Fact]
    public async Task A_grpc_client_creates_a_customer_and_a_subscription_with_idempotency_keys_once_each_and_reads_the_invoice_while_the_console_answers_on_the_same_port()
    {
        using var channel = Channel();
        var client = new Billing.BillingClient(channel);
        var customerKey = Guid.NewGuid();
        var email = $"grpc-{Guid.NewGuid():N}@example.test";
        var createCustomer = new CreateCustomerRequest { Name = "Grpc Ltd", Email = email, Currency = "EUR" };

        var customer = await client.CreateCustomerAsync(createCustomer, Caller(customerKey));
        using var replay = client.CreateCustomerAsync(createCustomer, Caller(customerKey));
        var replayed = await replay;

        Assert.Equal((customer.Id, "Grpc Ltd", "EUR"), (replayed.Id, replayed.Name, replayed.Currency));
        Assert.Equal("true", (await replay.ResponseHeadersAsync).GetValue("idempotent-replayed"));
        Assert.Equal(1, await Api.WithDbAsync(db => db.Customers.CountAsync(c => c.Email == email)));

        var price = await Api.CreatePriceAsync("Grpc plan", 30m, currency: "EUR");
        var subscriptionKey = Guid.NewGuid();
        var createSubscription = new CreateSubscriptionRequest { CustomerId = customer.Id, PriceId = price.ToString(), Quantity = 2, TrialDays = 0 };
        var created = await client.CreateSubscriptionAsync(createSubscription, Caller(subscriptionKey));
        var again = await client.CreateSubscriptionAsync(createSubscription, Caller(subscriptionKey));

        Assert.Equal((created.Subscription.Id, created.Invoice.Id), (again.Subscription.Id, again.Invoice.Id));
        Assert.Equal(("active", 2, "60.00"), (created.Subscription.Status, created.Subscription.Quantity, created.Invoice.Subtotal));
        var customerId = Guid.Parse(customer.Id);
        Assert.Equal(1, await Api.WithDbAsync(db => db.Subscriptions.CountAsync(s => s.CustomerId == customerId)));

        var invoices = await client.ListCustomerInvoicesAsync(new ListCustomerInvoicesRequest { CustomerId = customer.Id }, Caller());
        var invoice = Assert.Single(invoices.Data);
        Assert.Equal((created.Invoice.Id, created.Invoice.Number, "open", created.Invoice.Total, "EUR"),
            (invoice.Id, invoice.Number, invoice.Status, invoice.Total, invoice.Currency));
        var stored = await Api.WithDbAsync(db => db.Invoices.AsNoTracking().SingleAsync(i => i.CustomerId == customerId));
        Assert.Equal(stored.Id.ToString(), invoice.Id);

        using var browser = Host.CreateClient();
        using var live = await browser.GetAsync("/health/live", Ct);
        Assert.Equal((HttpStatusCode.OK, HttpVersion.Version11), (live.StatusCode, live.Version));
        using var console = await browser.GetAsync("/", Ct);
        Assert.Equal(HttpStatusCode.Redirect, console.StatusCode);
        Assert.StartsWith("/account/login", console.Headers.Location?.OriginalString.Replace(Host.BaseAddress.ToString().TrimEnd('/'), ""));
    }

    [Fact]
    public async Task Bad_input_gets_invalid_argument_with_the_fields_named_and_changes_nothing()
    {
        using var channel = Channel();
        var client = new Billing.BillingClient(channel);
        var email = $"not-an-email-{Guid.NewGuid():N}";

        var invalid = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.CreateCustomerAsync(new CreateCustomerRequest { Email = email, Currency = "EURO" }, Caller(Guid.NewGuid())));

        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        var fields = invalid.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Select(v => v.Field).ToList();
        Assert.Contains("name", fields);
        Assert.Contains("email", fields);
        Assert.Contains("currency", fields);
        Assert.Equal(0, await Api.WithDbAsync(db => db.Customers.CountAsync(c => c.Email == email)));

        var badId = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.CreateSubscriptionAsync(new CreateSubscriptionRequest { CustomerId = "customer-1", PriceId = Guid.NewGuid().ToString() }, Caller(Guid.NewGuid())));
        Assert.Equal(StatusCode.InvalidArgument, badId.StatusCode);
        var violation = Assert.Single(badId.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations);
        Assert.Equal(("customer_id", "'customer-1' is not a UUID."), (violation.Field, violation.Description));

        var missing = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.ListCustomerInvoicesAsync(new ListCustomerInvoicesRequest { CustomerId = Guid.NewGuid().ToString() }, Caller()));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);

        var keyReused = Guid.NewGuid();
        var first = await client.CreateCustomerAsync(new CreateCustomerRequest { Name = "One", Email = $"one-{Guid.NewGuid():N}@example.test", Currency = "USD" }, Caller(keyReused));
        var conflict = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.CreateCustomerAsync(new CreateCustomerRequest { Name = "Two", Email = $"two-{Guid.NewGuid():N}@example.test", Currency = "USD" }, Caller(keyReused)));
        Assert.Equal((StatusCode.Aborted, "This Idempotency-Key was already used with a different request."), (conflict.StatusCode, conflict.Status.Detail));
        Assert.NotEmpty(first.Id);

        var anonymous = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.ListCustomerInvoicesAsync(new ListCustomerInvoicesRequest { CustomerId = first.Id }, cancellationToken: Ct));
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
    }
}
