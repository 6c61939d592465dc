using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Text;
using BillingConsole.Engine.Signing;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Payments;
using BillingConsole.GrpcApi.V1;
using BillingConsole.Tests.Browser;
using BillingConsole.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Jobs;

/// <summary>
/// The topology production runs, on loopback (<see cref="ProxiedTopology"/>): nginx with TLS 1.3, HTTP/2 and sticky
/// sessions in front of two nodes, PgBouncer in transaction mode behind them. A browser signed in through nginx works on
/// either node; a node killed during a billing run loses nothing and its browser carries on on the other; webhooks are
/// judged by the client nginx forwards; gRPC goes through nginx to the nodes over HTTP/2; concurrent retries through
/// PgBouncer charge once.
/// </summary>
public sealed class TopologyTrialTests(ProxiedTopology topology, BrowserFixture browser) : IClassFixture<ProxiedTopology>
{
    private const int Subscriptions = 600;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Report(string line)
    {
        Console.WriteLine($"[topology trial] {line}");
        TestContext.Current.TestOutputHelper?.WriteLine(line);
    }

    /// <summary>The node nginx pinned the browser to (its billing_node cookie).</summary>
    private async Task<string> PinnedNodeAsync(IBrowserContext context) =>
        (await context.CookiesAsync([topology.PublicAddress.ToString()])).Single(c => c.Name == "billing_node").Value;

    private async Task PinAsync(IBrowserContext context, string node) =>
        await context.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = "billing_node", Value = node, Url = topology.PublicAddress.ToString(), Secure = true, HttpOnly = true }]);

    private static string Other(string node) => ProxiedTopology.NodeNames.Single(n => n != node);

    private async Task<IPage> SignedInPageAsync(IBrowserContext context, string path)
    {
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Ada Admin", path);
        return page;
    }

    [Fact]
    public async Task Nginx_speaks_TLS_1_3_only_and_HTTP_2()
    {
        using var client = topology.Client(IPAddress.Loopback);
        using var answer = await client.GetAsync("/health/live", Ct);
        Assert.Equal((HttpStatusCode.OK, HttpVersion.Version20), (answer.StatusCode, answer.Version));

        using var tls12 = topology.Client(IPAddress.Loopback, SslProtocols.Tls12);
        await Assert.ThrowsAsync<HttpRequestException>(() => tls12.GetAsync("/health/live", Ct));
    }

    [Fact]
    public async Task A_browser_signed_in_through_nginx_keeps_working_when_its_requests_reach_the_other_node()
    {
        await topology.EnsureBothNodesRunAsync();
        await using var context = await browser.NewContextAsync(topology.PublicAddress, ignoreHttpsErrors: true);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/customers");
        await page.WaitForURLAsync("**/account/dev-sign-in**");
        // Every answer pins the browser to the node that gave it: a late one (the favicon comes after the load event)
        // would undo the pin below.
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        var formNode = await PinnedNodeAsync(context);
        // The sign-in form (and its antiforgery token) came from one node; it is posted to the other.
        await PinAsync(context, Other(formNode));
        await page.FillAsync("#dev-name", "Ada Admin");
        await page.ClickAsync("[data-testid=sign-in-admin]");
        await ConsolePages.WaitUntilAwayFromAsync(page, "/account/");
        await Expect(page.GetByTestId("current-user")).ToHaveTextAsync("Ada Admin");
        await AdminPages.WaitUntilInteractiveAsync(page);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        Assert.Equal(Other(formNode), await PinnedNodeAsync(context));

        // The sign-in cookie the second node made opens the console on the first, whose circuit then works.
        await PinAsync(context, formNode);
        await AdminPages.OpenAsync(page, "/billing-runs");
        await Expect(page.GetByTestId("current-user")).ToHaveTextAsync("Ada Admin");
        await Expect(page.GetByTestId("start-run")).ToBeVisibleAsync();
        Assert.Equal(formNode, await PinnedNodeAsync(context));
        await BrowserFixture.ScreenshotAsync(page, "topology-other-node");
    }

    [Fact]
    public async Task A_node_killed_during_a_billing_run_loses_nothing_and_its_browser_carries_on_on_the_other_node()
    {
        await topology.EnsureBothNodesRunAsync();
        await using var context = await browser.NewContextAsync(topology.PublicAddress, ignoreHttpsErrors: true);
        // Notes, across reloads, whether Blazor's reconnect display was ever shown.
        await context.AddInitScriptAsync("""
            setInterval(() => {
              const modal = document.getElementById('components-reconnect-modal');
              if (modal && getComputedStyle(modal).display !== 'none') sessionStorage.setItem('reconnect-shown', '1');
            }, 20);
            """);
        var page = await SignedInPageAsync(context, "/billing-runs");
        var pinned = await PinnedNodeAsync(context);
        var victim = Array.IndexOf(ProxiedTopology.NodeNames, pinned);

        var (engine, runId) = await BillingRunChecks.QueueRunAsync(topology.Database, Subscriptions, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Billing"] = topology.ThroughPgBouncer(topology.Database.Name),
        });
        await using var _ = engine;
        Report($"tried: a run of {Subscriptions} due subscriptions in {Subscriptions / 100} chunks over two nodes through PgBouncer; " +
               $"{pinned}, which serves the browser, killed once the first chunk is charged");
        while ((await BillingRunChecks.ProgressAsync(topology.Database, runId)).ChunksDone == 0) await Task.Delay(100, Ct);
        await page.EvaluateAsync("() => window.beforeTheKill = true");
        await topology.KillNodeAsync(victim);
        Report($"killed {pinned} at {await BillingRunChecks.ProgressAsync(topology.Database, runId)}");

        // Blazor shows its reconnect display, the other node has no such circuit, and the page reloads there.
        await page.WaitForFunctionAsync("() => window.beforeTheKill === undefined", null, new() { Timeout = 60_000 });
        await AdminPages.WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("current-user")).ToHaveTextAsync("Ada Admin");
        Assert.Equal("1", await page.EvaluateAsync<string?>("() => sessionStorage.getItem('reconnect-shown')"));
        Assert.Equal(Other(pinned), await PinnedNodeAsync(context));

        var run = await BillingRunChecks.WaitForCompletionAsync(topology.Database, runId, () => topology.Output, TimeSpan.FromMinutes(2));
        await BillingRunChecks.AssertNothingLostNothingDoubledAsync(topology.Database, runId, Subscriptions, Report);
        // The page, on the node left, follows the run to its end with the database's figures.
        await Expect(page.GetByTestId("run-progress").Locator("[data-status=completed]")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("run-invoiced")).ToContainTextAsync(run.InvoicedCount.ToString("N0", CultureInfo.GetCultureInfo("en-US")));
        await Expect(page.GetByTestId("run-charged")).ToContainTextAsync(run.ChargedCount.ToString("N0", CultureInfo.GetCultureInfo("en-US")));
        await BrowserFixture.ScreenshotAsync(page, "topology-after-node-kill");
    }

    [Fact]
    public async Task A_webhook_through_nginx_is_judged_by_the_client_nginx_forwards()
    {
        var allowed = await DeliverAsync(ProxiedTopology.AllowedWebhookClient);
        var refused = await DeliverAsync(IPAddress.Loopback);
        // nginx names the address that connected; what a client claims in its own header is dropped.
        var spoofed = await DeliverAsync(IPAddress.Loopback, claimedFor: ProxiedTopology.AllowedWebhookClient);

        Assert.Equal((HttpStatusCode.OK, true), allowed);
        Assert.Equal((HttpStatusCode.Forbidden, false), refused);
        Assert.Equal((HttpStatusCode.Forbidden, false), spoofed);
    }

    [Fact]
    public async Task A_grpc_client_reaches_the_nodes_through_nginx_over_HTTP_2_with_its_API_key_and_idempotency_key()
    {
        await using var engine = EngineServices.Create(topology.Database);
        var key = await engine.InScopeAsync<ApiKeys, CreatedApiKey>(keys => keys.CreateAsync("topology-grpc", Ct));
        using var channel = GrpcChannel.ForAddress(topology.PublicAddress,
            new GrpcChannelOptions { HttpClient = topology.Client(IPAddress.Loopback), DisposeHttpClient = true });
        var client = new Billing.BillingClient(channel);
        var signedIn = new Metadata { { "authorization", $"Bearer {key.Key}" } };
        var once = new Metadata { { "authorization", $"Bearer {key.Key}" }, { "idempotency-key", Guid.NewGuid().ToString() } };
        var request = new CreateCustomerRequest { Name = "Through nginx", Email = $"nginx-{Guid.NewGuid():N}@example.test", Currency = "EUR" };

        var created = await client.CreateCustomerAsync(request, once, cancellationToken: Ct);
        var replayed = await client.CreateCustomerAsync(request, once, cancellationToken: Ct);
        var invalid = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.ListCustomerInvoicesAsync(new ListCustomerInvoicesRequest { CustomerId = "customer-1" }, signedIn, cancellationToken: Ct));

        Assert.Equal(created.Id, replayed.Id);
        await using var db = topology.Database.NewContext();
        Assert.Equal(1, await db.Customers.CountAsync(c => c.Email == request.Email, Ct));
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
    }

    /// <summary>A signed event for a charge nobody made: stored and ignored when accepted.</summary>
    private async Task<(HttpStatusCode Status, bool Stored)> DeliverAsync(IPAddress from, IPAddress? claimedFor = null)
    {
        var eventId = "evt_" + Guid.NewGuid().ToString("N");
        var body = WebhookEvents.Event("payment_intent.succeeded", "unknown-key-" + Guid.NewGuid().ToString("N"), eventId);
        using var client = topology.Client(from);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/sandbox") { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookEvents.Signature(body, DateTimeOffset.UtcNow, ProxiedTopology.WebhookSecret));
        if (claimedFor is not null) request.Headers.Add("X-Forwarded-For", claimedFor.ToString());
        using var answer = await client.SendAsync(request, Ct);
        await using var db = topology.Database.NewContext();
        return (answer.StatusCode, await db.WebhookEvents.AnyAsync(e => e.EventId == eventId, Ct));
    }

    [Fact]
    public async Task Twenty_concurrent_manual_retries_of_one_invoice_through_PgBouncer_charge_it_once()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("topology_retries");
        var throughPgBouncer = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Billing"] = topology.ThroughPgBouncer(database.Name),
            // Long enough for the retries to overlap at the gateway.
            ["Gateway:Sandbox:LatencyMs"] = "50",
            // The charge's deadline is not on trial here: the tests' 300 ms is too short for a 50 ms call on a loaded machine,
            // whose answer then stays unknown until the reconciliation.
            ["Gateway:ChargeTimeoutMs"] = "10000",
        };
        // Two agents on two nodes, one gateway.
        await using var first = EngineServices.Create(database, settings: throughPgBouncer);
        await using var second = EngineServices.Create(database, sharedGateway: first.Gateway, settings: throughPgBouncer);
        var failed = await FailedInvoices.CreateAsync(first.Services);
        var agent = new Actor("agent@example.test", "support");

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => (i % 2 == 0 ? first : second)
            .InScopeAsync<DunningCommands, ChargeResult>(commands => commands.RetryNowAsync(failed.InvoiceId, agent, $"Customer called ({i})", Ct)))));

        await using var db = database.NewContext();
        var attempts = await db.PaymentAttempts.AsNoTracking().Where(a => a.InvoiceId == failed.InvoiceId).Select(a => a.Status).ToListAsync(Ct);
        var cash = await db.LedgerEntries.Where(e => e.InvoiceId == failed.InvoiceId && e.Account == LedgerAccount.Cash).SumAsync(e => e.Debit - e.Credit, Ct);
        var invoice = await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == failed.InvoiceId, Ct);
        Report($"20 retries answered {string.Join(", ", results.GroupBy(r => r.Status).Select(g => $"{g.Count()} {g.Key}"))}; " +
               $"attempts {string.Join(", ", attempts)}; cash {cash}; gateway charged {first.Gateway.SuccessfulChargeCount} time(s)");
        Assert.Equal(1, attempts.Count(s => s == PaymentAttemptStatus.Succeeded));
        Assert.Equal(1, results.Count(r => r.Status == ChargeStatus.Succeeded));
        Assert.Equal((InvoiceStatus.Paid, invoice.Total.Amount, 1), (invoice.Status, cash, first.Gateway.SuccessfulChargeCount));
    }
}
