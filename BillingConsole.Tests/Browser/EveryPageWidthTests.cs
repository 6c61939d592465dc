using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// Every console page at a wide laptop, a narrow laptop and a phone: screenshots for a person to look at, no list that
/// scrolls sideways and no label cut short.
/// </summary>
public sealed class EveryPageWidthTests(ConsoleAppHost host, BrowserFixture browser)
{
    private static readonly int[] Widths = [1440, 1280, 390];

    /// <summary>A page's name, and the SQL that finds the id its address needs (none for a page without one).</summary>
    public static TheoryData<string, string, string?> Pages => new()
    {
        { "dashboard", "/", null },
        { "customers", "/customers", null },
        { "subscriptions", "/subscriptions", null },
        { "invoices", "/invoices", null },
        { "payments", "/payments", null },
        { "dunning", "/dunning", null },
        { "billing-runs", "/billing-runs", null },
        { "operations", "/operations", null },
        { "settings-billing", "/settings/billing", null },
        { "settings-dunning", "/settings/dunning", null },
        { "settings-notifications", "/settings/notifications", null },
        { "audit", "/audit", null },
        { "analytics", "/analytics", null },
        { "catalog", "/catalog", null },
        { "customer", "/customers/{0}", "select customer_id from invoices where status = 'open' order by created_at limit 1" },
        { "subscription", "/subscriptions/{0}", "select id from subscriptions order by created_at limit 1" },
        { "invoice", "/invoices/{0}", "select invoice_id from dunning_cases order by opened_at limit 1" },
        { "dunning-case", "/dunning/{0}", "select id from dunning_cases order by opened_at limit 1" },
        { "billing-run", "/billing-runs/{0}", "select id from billing_runs order by started_at limit 1" },
    };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task A_page_reads_whole_at_every_width(string name, string path, string? idQuery)
    {
        if (idQuery is not null)
        {
            await using var connection = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(TestContext.Current.CancellationToken);
            path = string.Format(path, await connection.QuerySingleAsync<Guid>(idQuery));
        }
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Ada Admin", path);
        await AdminPages.WaitUntilInteractiveAsync(page);

        var faults = new List<string>();
        foreach (var width in Widths)
        {
            await page.SetViewportSizeAsync(width, 900);
            // The navigation drawer slides shut or open with the new width: measure the page once it has settled.
            await page.WaitForFunctionAsync("() => document.getAnimations().every(a => !(a instanceof CSSTransition))");
            await Expect(page.Locator("h1")).ToBeVisibleAsync();
            // A list shows its rows, or says it has none, once its first read is in.
            await Expect(page.Locator(".mud-table-loading-progress")).ToHaveCountAsync(0);
            faults.AddRange((await FaultsAsync(page)).Select(fault => $"{width}px: {fault}"));
            await BrowserFixture.ScreenshotAsync(page, $"page-{name}-{width}");
        }

        Assert.True(faults.Count == 0, string.Join("\n", faults));
    }

    /// <summary>
    /// Sideways scrolling of the page, of a list (at any width) or of any table on a laptop (a detail page's table may scroll
    /// inside its own box on a phone), and labels whose text does not fit their box: a field's label, a column header, a
    /// button, a chip, or any text outside a table cell set to end in an ellipsis (a cell's clipped email shows whole in its
    /// tooltip).
    /// </summary>
    private static async Task<string[]> FaultsAsync(IPage page) => await page.EvaluateAsync<string[]>("""
        () => {
            const faults = [];
            const root = document.documentElement;
            if (root.scrollWidth > root.clientWidth) {
                const beyond = [...document.querySelectorAll('.mud-main-content *')].filter(e => e.getBoundingClientRect().right > root.clientWidth + 0.5)
                    .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`).slice(0, 3).join(', ');
                faults.push(`the page scrolls sideways by ${root.scrollWidth - root.clientWidth}px (${beyond})`);
            }
            const laptop = root.clientWidth >= 1024;
            for (const table of document.querySelectorAll(laptop ? '.mud-table-container' : '.mud-data-grid .mud-table-container'))
                if (table.scrollWidth > table.clientWidth + 1) {
                    const edge = table.getBoundingClientRect().right;
                    const beyond = [...table.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > edge + 0.5)
                        .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`).slice(0, 3).join(', ');
                    faults.push(`a table scrolls sideways by ${table.scrollWidth - table.clientWidth}px (${beyond})`);
                }
            const shown = e => e.getClientRects().length > 0 && !e.closest('.mud-drawer, .mud-popover, [hidden]');
            const labels = [...document.querySelectorAll('label, .mud-input-label, th, .mud-button-label, .mud-chip-content, .mud-tab')]
                .concat([...document.querySelectorAll('body *')].filter(e => getComputedStyle(e).textOverflow === 'ellipsis' && !e.closest('td')));
            // Measured as drawn (a field's label is scaled down when it moves above the field): the text against its box.
            const text = document.createRange();
            for (const label of new Set(labels)) {
                if (!shown(label) || getComputedStyle(label).overflowX === 'visible') continue;
                text.selectNodeContents(label);
                const box = label.getBoundingClientRect(), drawn = text.getBoundingClientRect();
                if (drawn.width === 0) continue;
                if (drawn.right > box.right + 1 || drawn.left < box.left - 1)
                    faults.push(`"${label.textContent.trim().slice(0, 40)}" is cut (${Math.round(drawn.width)}px of text in ${Math.round(box.width)}px)`);
            }
            return faults;
        }
        """);
}
