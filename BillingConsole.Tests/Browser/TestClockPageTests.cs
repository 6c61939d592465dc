using System.Text.RegularExpressions;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using static BillingConsole.Tests.Browser.AdminPages;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// Ada rehearses a failed renewal on a test clock: creates the clock, adds a customer whose card declines each invoice's
/// first charge, advances 30 days in steps, and reads the renewal, the failure, the retry, the recovery and the emails on the
/// clock's timeline, while a real customer's rows stay as they were.
/// </summary>
public sealed class TestClockPageTests(ConsoleAppHost host, BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly int[] Widths = [1440, 1280, 390];

    [Fact]
    public async Task An_admin_advances_a_clock_in_steps_and_reads_what_the_engine_did_in_clock_time()
    {
        var data = new BillingTestData(() => TestDatabases.NewContext(TestServers.DefaultConnectionString), DateTimeOffset.UtcNow);
        var planName = $"Clock plan {Guid.NewGuid():N}"[..20];
        var (_, price) = await data.PlanAsync(17m);
        await using (var db = TestDatabases.NewContext(TestServers.DefaultConnectionString))
            await db.Database.ExecuteSqlInterpolatedAsync($"update plans set name = {planName} where id = {price.PlanId}", Ct);
        var outsider = await FailedInvoices.CreateAsync(host.Services);
        var outsiderBefore = await RowsOfAsync(outsider.CustomerId);
        var clockName = $"Rehearsal {Guid.NewGuid():N}"[..20];

        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Ada Admin", "/test-clocks");
        await WaitUntilInteractiveAsync(page);
        await FillAsync(page, "clock-name", clockName);
        await FillAsync(page, "clock-start", "2027-02-01 00:05");
        await page.GetByTestId("create-clock-button").ClickAsync();
        await page.WaitForURLAsync("**/test-clocks/*");
        await WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("clock-time")).ToHaveTextAsync("2027-02-01 00:05 UTC");

        var add = page.GetByTestId("add-test-customer");
        await FillAsync(page, "customer-name", "Rehearsal Customer");
        await FillAsync(page, "customer-email", $"{Guid.NewGuid():N}@example.test");
        await ConsolePages.PickAsync(page, add.Locator(".mud-select").First, planName);
        await page.GetByTestId("add-customer-button").ClickAsync();
        await Expect(page.GetByTestId("clock-customers")).ToContainTextAsync("Rehearsal Customer");

        foreach (var day in new[] { "2027-02-11 00:05", "2027-02-21 00:05", "2027-03-03 00:05" })
        {
            await FillAsync(page, "advance-amount", "10");
            await page.GetByTestId("advance-button").ClickAsync();
            await page.Locator(".mud-dialog textarea").FillAsync("Rehearse a failed renewal");
            await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();
            await Expect(page.GetByTestId("clock-time")).ToHaveTextAsync($"{day} UTC", new() { Timeout = 60_000 });
        }

        var timeline = page.GetByTestId("clock-timeline");
        // The sign-up invoice and the renewal on 1 March, clock time; the sign-up's first charge declined, its retry paid.
        await Expect(timeline.Locator("tr[data-kind=invoice]")).ToHaveCountAsync(2);
        await Expect(timeline.Locator("tr[data-kind=invoice]").Last).ToContainTextAsync("2027-03-01 00:05");
        await Expect(timeline.Locator("tr[data-kind=attempt]").Filter(new() { HasText = "declined: insufficient_funds" }).First).ToBeVisibleAsync();
        await Expect(timeline.Locator("tr[data-kind=attempt]").Filter(new() { HasText = "Charge 2" }).First).ToContainTextAsync("succeeded");
        await Expect(timeline.Locator("tr[data-kind=case]").First).ToBeVisibleAsync();
        await Expect(timeline.Locator("tr[data-kind=email]").Filter(new() { HasText = "payment failed" }).First).ToBeVisibleAsync();
        await Expect(timeline.Locator("tr[data-kind=email]").Filter(new() { HasText = "payment received" }).First).ToBeVisibleAsync();
        await ScreenshotsAsync(page, "test-clock-");

        await timeline.Locator("tr[data-kind=invoice] a").First.ClickAsync();
        await page.WaitForURLAsync("**/invoices/*");
        await page.GoBackAsync();
        await page.GetByTestId("clock-customers").Locator("a").First.ClickAsync();
        await page.WaitForURLAsync("**/customers/*");
        await Expect(page.GetByTestId("customer-test-clock")).ToContainTextAsync(clockName);

        await page.GotoAsync("/test-clocks");
        await Expect(page.GetByTestId("test-clocks")).ToContainTextAsync(clockName);
        await ScreenshotsAsync(page, "test-clocks-");
        Assert.Equal(outsiderBefore, await RowsOfAsync(outsider.CustomerId));
    }

    [Fact]
    public async Task Test_customers_are_hidden_from_the_lists_until_asked_for_marked_when_shown_and_deleted_with_their_clock()
    {
        var data = new BillingTestData(() => TestDatabases.NewContext(TestServers.DefaultConnectionString), DateTimeOffset.UtcNow);
        var planName = $"Copy plan {Guid.NewGuid():N}"[..20];
        var (_, price) = await data.PlanAsync(23m);
        var real = await data.CustomerAsync();
        await data.SubscriptionAsync(real, price, quantity: 2, endedAgo: TimeSpan.FromDays(-20));
        var realName = $"Shape {Guid.NewGuid():N}"[..18];
        var testName = $"Listed {Guid.NewGuid():N}"[..19];
        await using (var db = TestDatabases.NewContext(TestServers.DefaultConnectionString))
        {
            await db.Database.ExecuteSqlInterpolatedAsync($"update plans set name = {planName} where id = {price.PlanId}", Ct);
            await db.Database.ExecuteSqlInterpolatedAsync($"update customers set name = {realName} where id = {real.Id}", Ct);
        }

        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Ada Admin", "/test-clocks");
        await WaitUntilInteractiveAsync(page);
        await FillAsync(page, "clock-name", $"Lists {Guid.NewGuid():N}"[..18]);
        await FillAsync(page, "clock-start", DateTimeOffset.UtcNow.AddDays(-3).ToString("yyyy-MM-dd HH:mm"));
        await page.GetByTestId("create-clock-button").ClickAsync();
        await page.WaitForURLAsync("**/test-clocks/*");
        var clockPath = new Uri(page.Url).AbsolutePath;
        await WaitUntilInteractiveAsync(page);

        // A customer whose card declines: an invoice, a failed payment and a dunning case once the clock moves on.
        var add = page.GetByTestId("add-test-customer");
        await FillAsync(page, "customer-name", testName);
        await FillAsync(page, "customer-email", $"{Guid.NewGuid():N}@example.test");
        await ConsolePages.PickAsync(page, add.Locator(".mud-select").First, planName);
        await FillAsync(page, "customer-card", "pm_insufficient_funds_");
        await page.GetByTestId("add-customer-button").ClickAsync();
        await Expect(page.GetByTestId("clock-customers")).ToContainTextAsync(testName);
        await FillAsync(page, "advance-amount", "2");
        await page.GetByTestId("advance-button").ClickAsync();
        await page.Locator(".mud-dialog textarea").FillAsync("Let the charge fail");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();
        await Expect(page.GetByTestId("clock-timeline").Locator("tr[data-kind=case]").First).ToBeVisibleAsync(new() { Timeout = 60_000 });

        // The real customer's shape, copied with a card that pays.
        await Input(page, "copy-customer").FillAsync(realName);
        // Picked once the suggestions have closed (a click while they are still closing lands on them, not on the button) and
        // the field shows the customer.
        var suggestions = page.Locator(".mud-popover-open .mud-list-item");
        await ConsolePages.ClickUntilAsync(page, suggestions.Filter(new() { HasText = realName }), async timeout =>
        {
            await Expect(suggestions).ToHaveCountAsync(0, new() { Timeout = timeout });
            await Expect(Input(page, "copy-customer")).ToHaveValueAsync(new Regex(Regex.Escape(realName)), new() { Timeout = timeout });
        }, "copy-customer-suggestion");
        await FillAsync(page, "copy-card", "pm_ok_");
        await page.GetByTestId("copy-customer-button").ClickAsync();
        // The copy signs up through the engine and runs its passes for the clock, as adding a customer does.
        await Expect(page.GetByTestId("clock-customers")).ToContainTextAsync($"Copy of {realName}", new() { Timeout = 60_000 });
        await ScreenshotsAsync(page, "test-clock-actions-");

        var search = Uri.EscapeDataString(testName);
        foreach (var (list, grid) in new[] { ("customers", "customer-grid"), ("subscriptions", "subscription-grid"), ("invoices", "invoice-grid"), ("payments", "payment-grid"), ("dunning", "dunning-grid") })
        {
            await OpenAsync(page, $"/{list}?search={search}");
            await Expect(page.GetByTestId(grid)).ToContainTextAsync("No ");
            await Expect(page.GetByTestId(grid).GetByText(testName)).ToHaveCountAsync(0);
            await Input(page, "filter-test-customers").CheckAsync(new() { Force = true });
            // The switch is drawn checked once the circuit has taken the change (the browser ticks its box at once): only then
            // does Apply carry it.
            await Expect(page.Locator(".mud-switch-base.mud-checked:has([data-testid=filter-test-customers]), [data-testid=filter-test-customers] .mud-switch-base.mud-checked")).ToHaveCountAsync(1);
            await ConsolePages.ApplyFiltersAsync(page, new Regex($"/{list}\\?search=.*showTestCustomers=true"));
            var row = page.GetByTestId(grid).Locator("tr").Filter(new() { HasText = testName }).First;
            await Expect(row.GetByTestId("test-chip")).ToHaveTextAsync("Test");
            await ScreenshotsAsync(page, $"test-customers-{list}-");
        }

        await OpenAsync(page, clockPath);
        await page.GetByTestId("delete-clock-button").ClickAsync();
        await page.Locator(".mud-dialog textarea").FillAsync("Rehearsal over");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();
        await page.WaitForURLAsync("**/test-clocks");
        await OpenAsync(page, $"/customers?search={search}&showTestCustomers=true");
        await Expect(page.GetByTestId("customer-grid")).ToContainTextAsync("No ");
        await using var check = TestDatabases.NewContext(TestServers.DefaultConnectionString);
        Assert.False(await check.Customers.AnyAsync(c => c.Name == testName || c.Name == $"Copy of {realName}", Ct));
        Assert.True(await check.Customers.AnyAsync(c => c.Id == real.Id, Ct));
    }

    /// <summary>Screenshots at each width (<paramref name="prefix"/> and the width name them), then back to the widest.</summary>
    private static async Task ScreenshotsAsync(IPage page, string prefix)
    {
        foreach (var width in Widths)
        {
            await page.SetViewportSizeAsync(width, 900);
            await SettledAsync(page);
            await BrowserFixture.ScreenshotAsync(page, $"{prefix}{width}");
        }
        await page.SetViewportSizeAsync(Widths[0], 900);
    }

    /// <summary>The navigation drawer slides shut or open with a new width: the screenshot waits for it.</summary>
    private static Task SettledAsync(IPage page) =>
        page.WaitForFunctionAsync("() => document.getAnimations().every(a => !(a instanceof CSSTransition))");

    /// <summary>A customer's rows of each kind and their audit entries, as one comparable text.</summary>
    private async Task<string> RowsOfAsync(Guid customerId)
    {
        await using var connection = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        await using var command = new NpgsqlCommand("""
            select concat_ws(' | ',
                (select count(*) from invoices where customer_id = $1),
                (select count(*) from payment_attempts where customer_id = $1),
                (select string_agg(status || ' ' || coalesce(next_attempt_at::text, ''), ',') from dunning_cases where customer_id = $1),
                (select count(*) from notifications where customer_id = $1),
                (select count(*) from ledger_entries where customer_id = $1),
                (select count(*) from audit_log where entity_id = $1::text or entity_id in (select id::text from invoices where customer_id = $1)))
            """, connection) { Parameters = { new() { Value = customerId } } };
        return (string)(await command.ExecuteScalarAsync(Ct))!;
    }
}
