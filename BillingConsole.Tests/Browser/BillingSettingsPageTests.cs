using BillingConsole.Tests.Infrastructure;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static BillingConsole.Tests.Browser.AdminPages;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>Ada changes the billing schedule; a switch to live charging asks first and is refused where no live gateway exists.</summary>
[Collection(OidcCollection.Name)]
public sealed class BillingSettingsPageTests(OidcConsoleHost console, ConsoleAppHost host, BrowserFixture browser)
{
    /// <summary>Read from Hangfire's storage in the database, through the other node.</summary>
    private (string? Cron, string? TimeZone) StoredBillingCycle()
    {
        using var connection = host.Services.GetRequiredService<JobStorage>().GetConnection();
        var job = connection.GetRecurringJobs(["billing-cycle"]).Single();
        return (job.Cron, job.TimeZoneId);
    }

    [Fact]
    public async Task An_admin_reschedules_the_billing_run_and_is_asked_before_live_charging()
    {
        await using var context = await browser.NewContextAsync(console.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInThroughProviderAsync(page, "ada", "/settings/billing");
        await WaitUntilInteractiveAsync(page);
        var original = await Input(page, "settings-cron").InputValueAsync();
        var originalZone = await Input(page, "settings-time-zone").InputValueAsync();

        await FillAsync(page, "settings-cron", "every night");
        await FillAsync(page, "settings-time-zone", "Atlantis/Capital");
        await page.GetByTestId("settings-save").ClickAsync();
        await Expect(page.GetByText("Not a cron expression", new() { Exact = false })).ToBeVisibleAsync();
        await Expect(page.GetByText("Not a known time zone", new() { Exact = false })).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "billing-settings-invalid");

        await FillAsync(page, "settings-cron", "15 3 * * *");
        await FillAsync(page, "settings-time-zone", "Europe/London");
        await FillAsync(page, "settings-reason", "Bill after the nightly export");
        await page.GetByText("Live (charges real cards)").ClickAsync();
        await page.GetByTestId("settings-save").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync("Switch to live charging?");
        await BrowserFixture.ScreenshotAsync(page, "billing-settings-live-confirmation");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Switch to live" }).ClickAsync();
        await Expect(page.GetByTestId("settings-gateway-error")).ToContainTextAsync("Stripe is not configured");
        Assert.Equal((original, originalZone), StoredBillingCycle());

        await page.GetByText("Sandbox (no real money)").ClickAsync();
        await page.GetByTestId("settings-save").ClickAsync();
        await Expect(page.GetByTestId("settings-hangfire")).ToContainTextAsync("\"15 3 * * *\" in Europe/London");
        Assert.Equal(("15 3 * * *", "Europe/London"), StoredBillingCycle());
        await BrowserFixture.ScreenshotAsync(page, "billing-settings-saved");

        // Back as it was, for the tests that share this installation.
        await FillAsync(page, "settings-cron", original);
        await FillAsync(page, "settings-time-zone", originalZone);
        await FillAsync(page, "settings-reason", "Back to the default schedule");
        await page.GetByTestId("settings-save").ClickAsync();
        await Expect(page.GetByTestId("settings-hangfire")).ToContainTextAsync($"\"{original}\" in {originalZone}");
    }
}
