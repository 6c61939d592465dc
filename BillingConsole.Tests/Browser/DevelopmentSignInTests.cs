using BillingConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

public sealed class DevelopmentSignInTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Theory]
    [InlineData("finance")]
    [InlineData("support")]
    [InlineData("admin")]
    public async Task Each_role_signs_in_and_sees_the_dashboard_with_seeded_figures(string role)
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();

        await ConsolePages.SignInAsDevelopmentUserAsync(page, role, $"Test {role}");

        await Expect(page.GetByTestId("current-role")).ToHaveTextAsync(role);
        await Expect(page.GetByTestId("figure-mrr")).ToContainTextAsync("$");
        var active = await page.GetByTestId("figure-active").Locator(".figure-value").InnerTextAsync();
        Assert.True(int.Parse(active.Replace(",", "")) > 0, $"Active subscriptions shown: '{active}'");
        await Expect(page.GetByTestId("invoices-by-status")).ToContainTextAsync("paid");
        await Expect(page.GetByTestId("receivables-aging")).ToContainTextAsync("90+ days");
        await BrowserFixture.ScreenshotAsync(page, $"dashboard-{role}");
    }

    [Fact]
    public async Task An_anonymous_visitor_is_sent_to_sign_in()
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();

        await page.GotoAsync("/");

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/dev-sign-in"));
        await Expect(page.GetByTestId("dev-sign-in-warning")).ToBeVisibleAsync();
    }

    [Theory]
    [InlineData("finance", 403)]
    [InlineData("support", 403)]
    [InlineData("admin", 200)]
    public async Task Only_admins_open_the_Hangfire_dashboard(string role, int expectedStatus)
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, role, $"Jobs {role}");

        var response = await context.APIRequest.GetAsync("/jobs", new() { MaxRedirects = 0 });

        var status = response.Status == 302 && response.Headers["location"].Contains("/account/denied") ? 403 : response.Status;
        Assert.Equal(expectedStatus, status);
    }
}
