using BillingConsole.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>Every list fits a laptop screen: no sideways scrolling at 1440 or 1280 pixels with the navigation open.</summary>
public sealed class ListWidthTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Theory]
    [MemberData(nameof(ConsoleLists.Grids), MemberType = typeof(ConsoleLists))]
    public async Task A_list_fits_without_scrolling_sideways(string path, string grid)
    {
        // A customer whose name and email have no break in them, listed by a search that finds only them.
        var failed = await ConsoleLists.CreateLongNamedCustomerAsync(host.Services);
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Fay Finance", path);
        var overflow = new Dictionary<string, int>();
        foreach (var (width, view) in new[] { (1440, path), (1280, path), (1280, $"{path}?search={Uri.EscapeDataString(failed.Email)}") })
        {
            if (page.Url != new Uri(host.BaseAddress, view).ToString()) await page.GotoAsync(view);
            await page.SetViewportSizeAsync(width, 900);
            await Expect(page.GetByTestId(grid).Locator("tbody tr td a").First).ToBeVisibleAsync();
            // How far the page, or the grid inside it, would scroll sideways.
            overflow[$"{view} at {width}"] = await page.EvaluateAsync<int>("""
                grid => Math.max(
                    document.documentElement.scrollWidth - document.documentElement.clientWidth,
                    ...[...document.querySelectorAll(`[data-testid=${grid}] .mud-table-container`)].map(c => c.scrollWidth - c.clientWidth))
                """, grid);
            await BrowserFixture.ScreenshotAsync(page, $"list-{path.Trim('/')}-{width}{(view == path ? "" : "-long-name")}");
        }

        Assert.Equal(overflow.Keys.ToDictionary(k => k, _ => 0), overflow);
    }
}
