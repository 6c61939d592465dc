using BillingConsole.Engine.Commands;
using BillingConsole.Tests.Api;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>The audit log reads in full at every width, links each entry to its entity, and finds actions by any part of their name.</summary>
public sealed class AuditLogPageTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Fact]
    public async Task An_entry_reads_in_full_links_to_its_customer_and_is_found_by_part_of_its_action()
    {
        var api = await ApiTestClient.CreateAsync(host, nameof(AuditLogPageTests));
        var customer = await api.CreateCustomerAsync();
        var agent = $"Audit reader {Guid.NewGuid():N}";
        var reason = "Customer asked by phone to put their company's VAT registration on every invoice from now on; confirmed against "
                     + "the registration certificate they emailed, which lists the head office in Lyon and the number below. "
                     + string.Join(' ', Enumerable.Repeat("Checked in the national register as well.", 4)) + " End of reason.";
        await using (var scope = host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<CustomerCommands>().UpdateAsync(customer.Id,
                new UpdateCustomer(null, null, null, null, null, TaxId: "FR 40 303 265 045"), new Actor(agent, "support"), reason,
                TestContext.Current.CancellationToken);
        }
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(1440, 900);

        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Fay Finance",
            $"/audit?actor={Uri.EscapeDataString(agent)}&action=UPDATED");

        var row = page.GetByTestId("audit-grid").Locator("tbody tr.mud-table-row").Filter(new() { HasText = agent });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("customer.updated");
        var why = row.Locator("td.audit-why");
        await Expect(why).ToHaveTextAsync(reason);
        Assert.True(await FitsAsync(why), "the reason is cut off at 1440 px");
        var link = row.GetByTestId("audit-entity-link");
        await Expect(link).ToHaveTextAsync(customer.Name);
        await Expect(link).ToHaveAttributeAsync("href", $"/customers/{customer.Id}");

        await row.Locator("td").First.Locator("button").ClickAsync();
        var after = page.Locator("pre.audit-json").Nth(1);
        await Expect(after).ToContainTextAsync("FR 40 303 265 045");
        Assert.True(await FitsAsync(after), "the entry's after state is cut off at 1440 px");
        Assert.True(await SidewaysScrollAsync(page) == 0, await WiderThanThePageAsync(page));
        await BrowserFixture.ScreenshotAsync(page, "audit-log-1440");

        // A phone opens the page at its own width (the navigation starts closed there).
        await page.SetViewportSizeAsync(390, 844);
        await page.ReloadAsync();
        await Expect(why).ToHaveTextAsync(reason);
        await row.Locator("td").First.Locator("button").ClickAsync();
        await BrowserFixture.ScreenshotAsync(page, "audit-log-390");
        Assert.True(await FitsAsync(why), "the reason is cut off at 390 px");
        Assert.True(await FitsAsync(after), "the entry's after state is cut off at 390 px");
        // The page itself: the grid's cards keep a few pixels of sideways slack of their own on phones.
        Assert.True(await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") == 0,
            await WiderThanThePageAsync(page));

        await link.ClickAsync();
        await Expect(page.GetByTestId("customer-name")).ToHaveTextAsync(customer.Name);
        await Expect(page.GetByTestId("customer-tax-id")).ToHaveTextAsync("Tax number FR 40 303 265 045");
    }

    /// <summary>Whether the element shows all of its content, without clipping or a scroll bar of its own.</summary>
    private static Task<bool> FitsAsync(ILocator element) =>
        element.EvaluateAsync<bool>("e => e.scrollWidth <= e.clientWidth + 1 && e.scrollHeight <= e.clientHeight + 1 && getComputedStyle(e).textOverflow !== 'ellipsis'");

    /// <summary>The elements reaching past the right edge of the page, to name in a failure.</summary>
    private static Task<string> WiderThanThePageAsync(IPage page) =>
        page.EvaluateAsync<string>("""
            () => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
                .slice(0, 8).map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} right ${e.getBoundingClientRect().right}`).join('; ')
                + ` (page ${document.documentElement.clientWidth} wide)`
            """);

    /// <summary>How far the page, or the grid inside it, would scroll sideways.</summary>
    private static Task<int> SidewaysScrollAsync(IPage page) =>
        page.EvaluateAsync<int>("""
            () => Math.max(document.documentElement.scrollWidth - document.documentElement.clientWidth,
                ...[...document.querySelectorAll('[data-testid=audit-grid] .mud-table-container')].map(c => c.scrollWidth - c.clientWidth))
            """);
}
