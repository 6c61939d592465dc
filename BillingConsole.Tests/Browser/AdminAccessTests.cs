using BillingConsole.Components.Shared;
using BillingConsole.Extensions;
using BillingConsole.Engine.Dunning;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>The admin pages are refused on the server to finance and support, and only admins see them in the navigation.</summary>
public sealed class AdminAccessTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Theory]
    [InlineData("finance")]
    [InlineData("support")]
    public async Task Finance_and_support_are_refused_the_admin_pages_and_do_not_see_them(string role)
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, role, $"Not admin {role}");

        await Expect(page.GetByTestId("nav-billing-runs")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("nav-dunning-policy")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("nav-notifications")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("nav-accounting")).ToHaveCountAsync(0);
        foreach (var (path, content) in new[]
                 {
                     ("/settings/dunning", "save-policy"), ("/settings/billing", "settings-save"), ("/billing-runs", "start-run"),
                     ("/settings/notifications", "save-template"), ("/settings/accounting", "accounting-save"),
                 })
        {
            await page.GotoAsync(path);
            await Expect(page.GetByTestId("access-denied")).ToBeVisibleAsync();
            await Expect(page.GetByTestId(content)).ToHaveCountAsync(0);
        }
    }

    [Fact]
    public async Task Support_sees_the_count_and_total_of_a_bulk_retry_before_starting_it()
    {
        // The queue filtered to customers of this test's own: other tests on the shared console open and close cases meanwhile.
        var search = Guid.NewGuid().ToString("N");
        await FailedInvoices.CreateAsync(host.Services, email: $"bulk-{search}@example.test", amount: 20m);
        await FailedInvoices.CreateAsync(host.Services, email: $"bulk-second-{search}@example.test", amount: 35m);
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Bulk support", $"/dunning?search={Uri.EscapeDataString(search)}");
        await AdminPages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("bulk-retry").ClickAsync();
        await Expect(page.GetByTestId("bulk-count")).ToBeVisibleAsync();
        await using var scope = host.Services.CreateAsyncScope();
        var selection = await scope.ServiceProvider.GetRequiredService<BulkRetryService>()
            .SelectAsync(new DunningQueueFilter { Search = search }, TestContext.Current.CancellationToken);
        Assert.Equal(2, selection.Count);

        await Expect(page.GetByTestId("bulk-count")).ToContainTextAsync($"Retry {selection.Count} case");
        await Expect(page.GetByTestId("bulk-count")).ToContainTextAsync(AmountsText.PerCurrency(selection.Totals));
        await BrowserFixture.ScreenshotAsync(page, "bulk-retry-confirmation");
        await page.GetByTestId("bulk-start").ClickAsync();
        await Expect(page.GetByText("Give a reason: it goes in the audit log.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Admins_see_the_admin_pages_in_the_navigation()
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Nav admin");

        await Expect(page.GetByTestId("nav-billing-runs")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("nav-dunning-policy")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("nav-billing-settings")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("nav-notifications")).ToBeVisibleAsync();
    }
}
