using BillingConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>Support agents answer customers from phones: at 390 pixels no page scrolls sideways and the header stays on one line.</summary>
public sealed class PhoneWidthTests(ConsoleAppHost host, BrowserFixture browser)
{
    private const int PhoneWidth = 390;

    [Theory]
    [MemberData(nameof(ConsoleLists.Grids), MemberType = typeof(ConsoleLists))]
    public async Task A_list_and_the_detail_page_it_opens_fit_a_phone(string path, string grid)
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(PhoneWidth, 844);
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Dana Support-Representative", path);
        var firstLink = page.GetByTestId(grid).Locator("tbody tr td a").First;
        await Expect(firstLink).ToBeVisibleAsync();
        var list = await SidewaysAsync(page);
        await BrowserFixture.ScreenshotAsync(page, $"phone-list-{path.Trim('/')}");

        await page.GotoAsync((await firstLink.GetAttributeAsync("href"))!);
        await Expect(page.Locator("h1")).ToBeVisibleAsync();
        var detail = await SidewaysAsync(page);
        await BrowserFixture.ScreenshotAsync(page, $"phone-detail-{path.Trim('/')}");

        Assert.Equal((0, "", 0, ""), (list.Scroll, list.Beyond, detail.Scroll, detail.Beyond));
    }

    [Fact]
    public async Task A_customer_with_long_unbroken_names_reads_on_a_phone_in_every_list_and_page()
    {
        var failed = await ConsoleLists.CreateLongNamedCustomerAsync(host.Services);
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(PhoneWidth, 844);
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Dana Support-Representative", $"/customers/{failed.CustomerId}");
        var search = Uri.EscapeDataString(failed.Email);
        var fits = new Dictionary<string, (int, string)>();
        foreach (var path in new[]
                 {
                     $"/customers/{failed.CustomerId}", $"/subscriptions/{failed.SubscriptionId}", $"/invoices/{failed.InvoiceId}", $"/dunning/{failed.CaseId}",
                     $"/customers?search={search}", $"/subscriptions?search={search}", $"/invoices?search={search}", $"/payments?search={search}",
                     $"/dunning?search={search}",
                 })
        {
            await page.GotoAsync(path);
            await Expect(page.Locator("h1")).ToBeVisibleAsync();
            await Expect(page.GetByText(new System.Text.RegularExpressions.Regex("Konstantinopolitan")).First).ToBeVisibleAsync();
            fits[path] = await SidewaysAsync(page);
            await BrowserFixture.ScreenshotAsync(page, $"phone-long-{path.Split('?')[0].Trim('/').Split('/')[0]}{(path.Contains('?') ? "-list" : "")}");
        }

        Assert.Equal(fits.Keys.ToDictionary(k => k, _ => (0, "")), fits);
    }

    [Fact]
    public async Task The_dashboard_fits_a_phone()
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(PhoneWidth, 844);
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Fay Finance", "/");
        await Expect(page.Locator("h1")).ToBeVisibleAsync();
        var fit = await SidewaysAsync(page);
        await BrowserFixture.ScreenshotAsync(page, "phone-dashboard");
        Assert.Equal((0, ""), (fit.Scroll, fit.Beyond));
    }

    /// <summary>
    /// How far the page would scroll sideways, and what sits beyond the screen's right edge where no scrolling reaches it
    /// (text, buttons or links cut off by a container that hides its overflow): empty when everything fits.
    /// </summary>
    private static async Task<(int Scroll, string Beyond)> SidewaysAsync(IPage page)
    {
        var figures = await page.EvaluateAsync<string[]>("""
            () => {
                const width = document.documentElement.clientWidth;
                // A wide table may scroll inside its own box, which is on screen; only what cannot be reached counts.
                const insideScrollingBox = e => {
                    for (let box = e.parentElement; box && box !== document.body; box = box.parentElement)
                        if (['auto', 'scroll'].includes(getComputedStyle(box).overflowX) && box.getBoundingClientRect().right <= width + 0.5) return true;
                    return false;
                };
                const beyond = [...document.querySelectorAll('.mud-main-content *')]
                    .filter(e => e.getClientRects().length > 0 && !e.closest('.mud-drawer, .mud-popover, [hidden]'))
                    .filter(e => e.getBoundingClientRect().right > width + 0.5 && !insideScrollingBox(e))
                    .filter(e => ![...e.children].some(child => child.getBoundingClientRect().right > width + 0.5))
                    .map(e => `${e.tagName.toLowerCase()} "${e.textContent.trim().slice(0, 30)}" to ${Math.ceil(e.getBoundingClientRect().right)}px`);
                return [String(document.documentElement.scrollWidth - width), beyond.slice(0, 3).join('; ')];
            }
            """);
        return (int.Parse(figures[0]), figures[1]);
    }
}
