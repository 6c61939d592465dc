using BillingConsole.Engine.Events;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using static BillingConsole.Tests.Browser.AdminPages;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// An admin registers an event endpoint on Settings → Integrations (a private address is refused with a sentence), copies
/// the secret shown once, reads the delivery log and sends an event again; the page fits 1440 and 390 px.
/// </summary>
public sealed class IntegrationsPageTests(ConsoleAppHost host, BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task DeliverAsync()
    {
        await using var scope = host.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<EventSender>().RunDueAsync(Ct);
    }

    private static async Task ConfirmWithReasonAsync(IPage page, string reason)
    {
        var dialog = page.Locator(".mud-dialog");
        await dialog.Locator("textarea").FillAsync(reason);
        await dialog.GetByTestId("reason-confirm").ClickAsync();
    }

    [Fact]
    public async Task An_admin_registers_an_endpoint_reads_its_delivery_log_and_sends_an_event_again()
    {
        await using var receiver = await EventReceiver.StartAsync();
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(1440, 900);
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Ada Admin", "/settings/integrations");
        await WaitUntilInteractiveAsync(page);

        await FillAsync(page, "endpoint-url", "http://10.0.0.5/billing-events");
        await FillAsync(page, "endpoint-reason", "The CRM wants invoices");
        await page.GetByTestId("endpoint-register").ClickAsync();
        await Expect(page.GetByText("10.0.0.5 is a loopback, link-local or private address", new() { Exact = false })).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "integrations-refused");

        await FillAsync(page, "endpoint-url", receiver.Url);
        await FillAsync(page, "endpoint-description", "Test receiver");
        await ConsolePages.PickAsync(page, page.GetByTestId("endpoint-types"), EventTypes.CustomerUpdated);
        // A multi-select stays open after a pick, and an Escape pressed before the circuit has taken the pick leaves it open
        // over the form: press it until the list is gone.
        var openList = page.Locator(".mud-popover-open .mud-list-item");
        for (var tries = 0; tries < 10 && await openList.CountAsync() > 0; tries++)
        {
            await page.Keyboard.PressAsync("Escape");
            await page.WaitForTimeoutAsync(300);
        }
        await Expect(openList).ToHaveCountAsync(0);
        await FillAsync(page, "endpoint-reason", "The CRM wants customer changes");
        await page.GetByTestId("endpoint-register").ClickAsync();
        var secret = page.GetByTestId("endpoint-secret").Locator("code");
        await Expect(secret).ToContainTextAsync("whsec_");
        receiver.Secret = (await secret.TextContentAsync())!.Trim();
        var row = page.GetByTestId("endpoint-row").Filter(new() { HasText = receiver.Url });
        await Expect(row).ToContainTextAsync("customer.updated");

        Guid customerId;
        await using (var connection = new NpgsqlConnection(TestServers.DefaultConnectionString))
            customerId = await connection.ExecuteScalarAsync<Guid>("update customers set name = name || ' ' where id = (select id from customers order by id limit 1) returning id");
        await DeliverAsync();
        var delivered = Assert.Single(receiver.Accepted, r => r.Body.Contains(customerId.ToString()));
        Assert.True(delivered.SignatureValid);

        await row.GetByTestId("endpoint-log").ClickAsync();
        var attempt = page.Locator($"[data-testid=delivery-attempt][data-event='{delivered.EventId}']");
        await Expect(attempt).ToContainTextAsync("200");
        await Expect(attempt).ToContainTextAsync("delivered");
        await BrowserFixture.ScreenshotAsync(page, "integrations-1440");

        await attempt.GetByTestId("send-again").ClickAsync();
        await ConfirmWithReasonAsync(page, "They lost it");
        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("queued to be sent again");
        await DeliverAsync();
        Assert.Equal(2, receiver.Accepted.Count(r => r.EventId == delivered.EventId));
        await row.GetByTestId("endpoint-log").ClickAsync();
        await Expect(page.Locator($"[data-testid=delivery-attempt][data-event='{delivered.EventId}']")).ToHaveCountAsync(2);

        // A phone opens the page afresh (its navigation drawer closed), the delivery log below the endpoints.
        await page.SetViewportSizeAsync(390, 844);
        await OpenAsync(page, "/settings/integrations");
        await row.GetByTestId("endpoint-log").ClickAsync();
        await Expect(page.Locator($"[data-testid=delivery-attempt][data-event='{delivered.EventId}']")).ToHaveCountAsync(2);
        await BrowserFixture.ScreenshotAsync(page, "integrations-390");
        var overflow = await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > document.documentElement.clientWidth");
        Assert.False(overflow, "The page is wider than a 390 px screen");

        // No more events for the other tests' changes once this receiver is gone.
        await row.GetByTestId("endpoint-disable").ClickAsync();
        await ConfirmWithReasonAsync(page, "Test over");
        await Expect(row.GetByTestId("endpoint-state")).ToContainTextAsync("Disabled by");
    }
}
