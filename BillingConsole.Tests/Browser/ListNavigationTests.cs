using System.Net;
using System.Text.RegularExpressions;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>A list is driven from the keyboard and its URL: Enter applies the filters, sort and page live in the address.</summary>
public sealed class ListNavigationTests(ConsoleAppHost host, BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Enter_in_the_search_box_applies_the_filter()
    {
        // A test clock's customer (another test may have made one) is hidden from the list by default.
        var email = await QueryAsync<string>("select email from customers where test_clock_id is null order by email limit 1");
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Fay Finance", "/customers");
        // Enter before the circuit is up would submit the bare form to the server, which knows nothing of the typed text.
        await AdminPages.WaitUntilInteractiveAsync(page);
        var rows = page.GetByTestId("customer-grid").Locator("tbody tr.mud-table-row");
        await Expect(rows.First).ToBeVisibleAsync();

        var search = AdminPages.Input(page, "filter-search");
        await search.FillAsync(email);
        await search.PressAsync("Enter");

        await Expect(page).ToHaveURLAsync(new Regex("search=" + Regex.Escape(Uri.EscapeDataString(email))));
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync(email);
    }

    [Fact]
    public async Task A_date_filter_reads_and_takes_yyyy_MM_dd_and_Enter_applies_it()
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Fay Finance", "/invoices?dueFrom=2026-03-31");
        await AdminPages.WaitUntilInteractiveAsync(page);
        var dueFrom = AdminPages.Input(page, "filter-due-from");
        await Expect(dueFrom).ToHaveValueAsync("2026-03-31");

        await dueFrom.FillAsync("2026-02-01");
        await dueFrom.PressAsync("Enter");

        await Expect(page).ToHaveURLAsync(new Regex("dueFrom=2026-02-01"));
        await Expect(dueFrom).ToHaveValueAsync("2026-02-01");
    }

    [Fact]
    public async Task Sort_and_page_stay_in_the_URL_through_a_reload_and_the_back_button_and_the_export_keeps_the_order()
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Fay Finance", "/invoices");
        var grid = page.GetByTestId("invoice-grid");
        var firstNumber = grid.Locator("tbody tr.mud-table-row td:first-child").First;
        await Expect(firstNumber).ToBeVisibleAsync();
        await AdminPages.WaitUntilInteractiveAsync(page);

        await grid.Locator("thead").GetByText("Number", new() { Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"/invoices\?sort=number&order=asc$"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Next page" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"/invoices\?sort=number&order=asc&page=2$"));
        // The address changes before the grid shows the page: read the rows once its first one is the page's.
        var expectedSecondPage = await FirstNumbersAsync(offset: 25);
        await Expect(firstNumber).ToHaveTextAsync(expectedSecondPage[0]);
        var secondPage = await NumbersAsync(grid);
        Assert.Equal(expectedSecondPage, secondPage);

        await page.ReloadAsync();
        await Expect(firstNumber).ToHaveTextAsync(secondPage[0]);
        Assert.Equal(secondPage, await NumbersAsync(grid));
        await Expect(page.Locator(".mud-table-pagination-caption").Last).ToContainTextAsync("26-50");

        await page.GoBackAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"/invoices\?sort=number&order=asc$"));
        await Expect(page.Locator(".mud-table-pagination-caption").Last).ToContainTextAsync("1-25");
        Assert.Equal(await FirstNumbersAsync(offset: 0), await NumbersAsync(grid));

        var export = await page.GetByTestId("export-csv").GetAttributeAsync("href");
        Assert.Equal("/export/invoices.csv?sort=number&order=asc", export);
        var csv = await (await context.APIRequest.GetAsync(export!)).TextAsync();
        var exported = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(50).Select(line => line.Split(',')[1]).ToList();
        Assert.Equal([.. await FirstNumbersAsync(offset: 0), .. secondPage], exported);
    }

    [Fact]
    public async Task A_bad_sort_or_page_in_the_URL_is_named_and_the_export_refuses_it()
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Fay Finance", "/invoices?sort=colour&page=0");
        await Expect(page.Locator(".mud-alert")).ToContainTextAsync(["'colour' is not a sort", "'0' is not a page"]);
        await Expect(page.GetByTestId("invoice-grid").Locator("tbody tr.mud-table-row").First).ToBeVisibleAsync();

        var response = await context.APIRequest.GetAsync("/export/invoices.csv?sort=total&order=sideways");
        Assert.Equal((int)HttpStatusCode.BadRequest, response.Status);
        Assert.Contains("'sideways' is not an order", await response.TextAsync());
    }

    [Fact]
    public async Task A_capped_count_offers_no_last_page_and_an_exact_one_does()
    {
        await using (var connection = await DataSource.OpenConnectionAsync(Ct))
            await connection.ExecuteAsync("""
                insert into audit_log (occurred_at, actor, actor_role, action, entity_type, entity_id, reason)
                select timestamptz '2001-01-01' + n * interval '1 second', 'system', 'system', 'list.pager_check', 'list', n::text, 'pager check'
                from generate_series(1, @rows) n
                """, new { rows = ListQuery.CountCap + 50 });
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Ada Admin", "/audit?action=list.pager_check");
        var caption = page.Locator(".mud-table-pagination-caption").Last;
        var last = page.GetByRole(AriaRole.Button, new() { Name = "Last page" });

        await Expect(caption).ToHaveTextAsync(new Regex(@"^1-25 of (10,?000\+|many)$"));
        await Expect(last).ToBeHiddenAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Next page" })).ToBeEnabledAsync();
        await BrowserFixture.ScreenshotAsync(page, "list-pager-capped");

        await page.GotoAsync("/audit?action=list.pager_check&entityId=7");
        await Expect(caption).ToHaveTextAsync("1-1 of 1");
        await Expect(last).ToBeVisibleAsync();
    }

    private static async Task<List<string>> NumbersAsync(ILocator grid)
    {
        await Expect(grid.Locator("tbody tr.mud-table-row")).ToHaveCountAsync(25);
        return [.. (await grid.Locator("tbody tr.mud-table-row td:first-child").AllInnerTextsAsync()).Select(text => text.Trim())];
    }

    /// <summary>The invoice numbers of a page of 25 in ascending order (new invoices from other tests come after them).</summary>
    private Task<List<string>> FirstNumbersAsync(int offset) =>
        QueryListAsync<string>("select number from invoices order by number, id limit 25 offset @offset", new { offset });

    private NpgsqlDataSource DataSource => host.Services.GetRequiredService<NpgsqlDataSource>();

    private async Task<T> QueryAsync<T>(string sql)
    {
        await using var connection = await DataSource.OpenConnectionAsync(Ct);
        return await connection.QuerySingleAsync<T>(sql);
    }

    private async Task<List<T>> QueryListAsync<T>(string sql, object parameters)
    {
        await using var connection = await DataSource.OpenConnectionAsync(Ct);
        return [.. await connection.QueryAsync<T>(sql, parameters)];
    }
}
