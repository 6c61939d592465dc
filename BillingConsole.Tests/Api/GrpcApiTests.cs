using System.Net;
using System.Net.Sockets;
using System.Text;
using BillingConsole.GrpcApi.V1;
using BillingConsole.Tests.Browser;
using BillingConsole.Tests.Infrastructure;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;

namespace BillingConsole.Tests.Api;

/// <summary>
/// The gRPC service on the shared console host's cleartext port, over real HTTP/2 with prior knowledge (no TLS, no
/// gRPC-Web), with the test's own API key: the same commands, idempotency keys and problems as the REST API, while
/// browsers, the Blazor circuit's WebSocket and the REST API keep speaking HTTP/1.1 on that port.
/// </summary>
public sealed class GrpcApiTests(ConsoleAppHost host, BrowserFixture browser) : ApiTestBase(host)
{
    private static readonly byte[] Http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    // GrpcChannel's own handler speaks HTTP/2 to an http:// address from the first byte (prior knowledge).
    private GrpcChannel Channel() => GrpcChannel.ForAddress(Host.BaseAddress);

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

        using var http11 = Host.CreateClient();
        using var live = await http11.GetAsync("/health/live", Ct);
        Assert.Equal((HttpStatusCode.OK, HttpVersion.Version11), (live.StatusCode, live.Version));
        using var http2 = new HttpClient { BaseAddress = Host.BaseAddress, DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var liveOverHttp2 = await http2.GetAsync("/health/live", Ct);
        Assert.Equal((HttpStatusCode.OK, HttpVersion.Version20), (liveOverHttp2.StatusCode, liveOverHttp2.Version));

        await using var context = await browser.NewContextAsync(Host.BaseAddress);
        var page = await context.NewPageAsync();
        var webSockets = new List<IWebSocket>();
        page.WebSocket += (_, socket) => webSockets.Add(socket);
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Grpc neighbour", $"/customers/{customer.Id}");
        await Assertions.Expect(page.GetByText(email).First).ToBeVisibleAsync();
        var circuit = Assert.Single(webSockets, socket => socket.Url.StartsWith($"ws://{Host.BaseAddress.Authority}/_blazor"));
        Assert.False(circuit.IsClosed);
    }

    [Fact]
    public async Task A_short_http11_request_is_answered_without_waiting_for_24_bytes_and_a_preface_sent_in_pieces_still_opens_http2()
    {
        using (var http11 = await ConnectAsync())
        {
            // 18 bytes, the first of which already differs from the preface.
            await http11.GetStream().WriteAsync("GET / HTTP/1.0\r\n\r\n"u8.ToArray(), Ct);
            Assert.Equal("HTTP/1.1 ", Encoding.ASCII.GetString(await ReadAsync(http11, 9)));
        }

        using var http2 = await ConnectAsync();
        var stream = http2.GetStream();
        await stream.WriteAsync(Http2Preface.AsMemory(0, 10), Ct);
        await stream.FlushAsync(Ct);
        await Task.Delay(200, Ct);
        await stream.WriteAsync(Http2Preface.AsMemory(10), Ct);
        // The server's preface is a SETTINGS frame: 3 bytes of length, then type 0x4 on stream 0.
        var frameHeader = await ReadAsync(http2, 9);
        Assert.Equal((byte)0x4, frameHeader[3]);
        Assert.Equal(0, frameHeader[5] | frameHeader[6] | frameHeader[7] | frameHeader[8]);
    }

    private async Task<TcpClient> ConnectAsync()
    {
        var client = new TcpClient();
        await client.ConnectAsync(Host.BaseAddress.Host, Host.BaseAddress.Port, Ct);
        return client;
    }

    /// <summary>The first bytes the server answers, or a failure after 10 s: a connection left waiting fails the test.</summary>
    private static async Task<byte[]> ReadAsync(TcpClient client, int length)
    {
        var bytes = new byte[length];
        using var within = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        within.CancelAfter(TimeSpan.FromSeconds(10));
        await client.GetStream().ReadExactlyAsync(bytes, within.Token);
        return bytes;
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
