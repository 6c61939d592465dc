using System.Diagnostics;
using System.Net;
using System.Text.Json;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence.Availability;
using BillingConsole.Tests.Api;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

[CollectionDefinition(DisableParallelization = true)]
public sealed class DatabaseOutage;

/// <summary>Stops the run's PostgreSQL under the shared console, so it runs alone: every other test needs the database.</summary>
[Collection(typeof(DatabaseOutage))]
public sealed class DatabaseOutageTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Fact]
    public async Task Losing_PostgreSQL_makes_the_console_read_only_within_5_seconds_and_it_recovers_by_itself()
    {
        var ct = TestContext.Current.CancellationToken;
        var api = await ApiTestClient.CreateAsync(host, nameof(DatabaseOutageTests));
        var state = host.Services.GetRequiredService<ReadOnlyState>();
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Outage finance", "/");
        await Expect(page.GetByTestId("figures-age")).ToBeVisibleAsync();
        var mrrBefore = await page.GetByTestId("figure-mrr").TextContentAsync() ?? "";
        await Expect(page.GetByTestId("read-only-banner")).ToHaveCountAsync(0);

        var stopped = Stopwatch.StartNew();
        try
        {
            await TestServers.StopPostgresAsync();
            stopped.Restart();

            // The page is not reloaded: the layout shows the banner as the state changes.
            await Expect(page.GetByTestId("read-only-banner")).ToBeVisibleAsync(new() { Timeout = 5_000 });
            var noticedAfter = stopped.Elapsed;
            TestContext.Current.TestOutputHelper?.WriteLine($"PostgreSQL stopped: banner shown after {noticedAfter.TotalSeconds:0.0} s");
            await Expect(page.GetByTestId("read-only-banner")).ToContainTextAsync("the database cannot be reached");

            var refused = await api.PostAsync("/api/v1/customers", api.NewCustomer());
            var problem = await Problem.ReadAsync(refused, HttpStatusCode.ServiceUnavailable);
            Assert.Equal(state.Explanation, problem.Detail);
            Assert.StartsWith("BillingConsole is read-only since ", problem.Detail);
            Assert.Equal(TimeSpan.FromSeconds(ReadOnlyRefusalSeconds), refused.Headers.RetryAfter?.Delta);

            // A console action goes through the same engine command, which refuses with the same sentence.
            await using (var scope = host.Services.CreateAsyncScope())
            {
                var refusal = await Assert.ThrowsAsync<ReadOnlyException>(() => scope.ServiceProvider.GetRequiredService<CustomerCommands>()
                    .CreateAsync(new CreateCustomer("Grace", "grace@example.com", "USD", null, null), Actor.System, "outage test", ct));
                Assert.Equal(state.Explanation, refusal.Message);
            }

            using var health = await host.CreateClient().GetAsync("/health/ready", ct);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            using var report = JsonDocument.Parse(await health.Content.ReadAsStringAsync(ct));
            var readOnlyCheck = report.RootElement.GetProperty("checks").GetProperty("read-only");
            Assert.Equal("Unhealthy", readOnlyCheck.GetProperty("status").GetString());
            Assert.Equal(state.Explanation, readOnlyCheck.GetProperty("description").GetString());

            // A page opened now still shows the last figures read, saying how old they are.
            await page.ReloadAsync();
            await Expect(page.GetByTestId("figures-cached")).ToContainTextAsync("last figures read");
            await Expect(page.GetByTestId("figure-mrr")).ToHaveTextAsync(mrrBefore);
            await Expect(page.GetByTestId("read-only-banner")).ToBeVisibleAsync();
            await BrowserFixture.ScreenshotAsync(page, "read-only-dashboard");

            // A list cannot be read without the database: the page says so instead of failing the circuit.
            await page.GetByRole(AriaRole.Link, new() { Name = "Customers" }).First.ClickAsync();
            await Expect(page.GetByTestId("page-error")).ToContainTextAsync("the database cannot be reached");
            await Expect(page.GetByTestId("read-only-banner")).ToBeVisibleAsync();
            await BrowserFixture.ScreenshotAsync(page, "read-only-list");
            await page.GetByRole(AriaRole.Link, new() { Name = "Dashboard" }).First.ClickAsync();
            await Expect(page.GetByTestId("figures-cached")).ToBeVisibleAsync();
        }
        finally
        {
            await TestServers.StartPostgresAsync();
        }
        stopped.Restart();

        await Expect(page.GetByTestId("read-only-banner")).ToHaveCountAsync(0, new() { Timeout = 15_000 });
        TestContext.Current.TestOutputHelper?.WriteLine($"PostgreSQL started: banner gone after {stopped.Elapsed.TotalSeconds:0.0} s");
        Assert.False(state.IsReadOnly);
        var accepted = await api.PostAsync("/api/v1/customers", api.NewCustomer());
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        await page.GetByRole(AriaRole.Link, new() { Name = "Customers" }).First.ClickAsync();
        await Expect(page.Locator("[data-testid=customer-grid] tbody tr").Nth(3)).ToBeVisibleAsync();
        await Expect(page.GetByTestId("page-error")).ToHaveCountAsync(0);
        await page.ReloadAsync();
        await page.GotoAsync("/");
        await Expect(page.GetByTestId("figures-age")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("figures-cached")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task An_API_call_before_the_monitor_noticed_the_loss_gets_the_read_only_503_not_a_500_and_the_node_turns_read_only_at_once()
    {
        var api = await ApiTestClient.CreateAsync(host, nameof(An_API_call_before_the_monitor_noticed_the_loss_gets_the_read_only_503_not_a_500_and_the_node_turns_read_only_at_once));
        var state = host.Services.GetRequiredService<ReadOnlyState>();
        try
        {
            await TestServers.StopPostgresAsync();
            var sentWhileWritable = !state.IsReadOnly;
            var sent = Stopwatch.StartNew();
            var refused = await api.PostAsync("/api/v1/customers", api.NewCustomer());
            var answeredAfter = sent.Elapsed;

            var problem = await Problem.ReadAsync(refused, HttpStatusCode.ServiceUnavailable);
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"PostgreSQL stopped; API call sent while the node was {(sentWhileWritable ? "still writable" : "already read-only")}: {(int)refused.StatusCode} after {answeredAfter.TotalMilliseconds:0} ms, node read-only: {state.IsReadOnly}");
            Assert.True(sentWhileWritable, "The monitor noticed the loss before the call was sent: this test needs the call to come first.");
            Assert.True(state.IsReadOnly);
            Assert.Equal(state.Explanation, problem.Detail);
            Assert.Equal(TimeSpan.FromSeconds(ReadOnlyRefusalSeconds), refused.Headers.RetryAfter?.Delta);
        }
        finally
        {
            await TestServers.StartPostgresAsync();
        }
        await WaitUntilWritableAsync(state);
    }

    private static async Task WaitUntilWritableAsync(ReadOnlyState state)
    {
        var waited = Stopwatch.StartNew();
        while (state.IsReadOnly && waited.Elapsed < TimeSpan.FromSeconds(15)) await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.False(state.IsReadOnly);
    }

    private const int ReadOnlyRefusalSeconds = BillingConsole.Api.ReadOnlyRefusal.RetryAfterSeconds;
}
