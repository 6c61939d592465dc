using BillingConsole.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>Every list fits a laptop screen: no sideways scrolling at 1440 or 1280 pixels with the navigation open.</summary>
public sealed class ListWidthTests(ConsoleAppHost host, BrowserFixture browser)
{
    public static TheoryData<string, string> Lists => new()
    {
        { "/customers", "customer-grid" },
        { "/subscriptions", "subscription-grid" },
        { "/invoices", "invoice-grid" },
        { "/payments", "payment-grid" },
        { "/dunning", "dunning-grid" },
    };

    [Theory]
    [MemberData(nameof(Lists))]
    public async Task A_list_fits_without_scrolling_sideways(string path, string grid)
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Fay Finance", path);
        var overflow = new Dictionary<int, int>();
        foreach (var width in new[] { 1440, 1280 })
        {
            await page.SetViewportSizeAsync(width, 900);
            await Expect(page.GetByTestId(grid).Locator("tbody tr td a").First).ToBeVisibleAsync();
            // How far the page, or the grid inside it, would scroll sideways.
            overflow[width] = await page.EvaluateAsync<int>("""
                grid => Math.max(
                    document.documentElement.scrollWidth - document.documentElement.clientWidth,
                    ...[...document.querySelectorAll(`[data-testid=${grid}] .mud-table-container`)].map(c => c.scrollWidth - c.clientWidth))
                """, grid);
            await BrowserFixture.ScreenshotAsync(page, $"list-{path.Trim('/')}-{width}");
        }

        Assert.Equal(new Dictionary<int, int> { [1440] = 0, [1280] = 0 }, overflow);
    }
}
