using System.Globalization;
using System.Text.RegularExpressions;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>Finance and support at work, in chromium, signed in through the OpenID Connect provider.</summary>
[Collection(OidcCollection.Name)]
public sealed class ConsoleWorkflowTests(OidcConsoleHost console, ConsoleAppHost host, BrowserFixture browser)
{
    [Fact]
    public async Task Support_finds_a_customer_by_email_retries_the_failed_invoice_and_the_audit_log_shows_the_agent_and_reason()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services);
        await using var context = await browser.NewContextAsync(console.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInThroughProviderAsync(page, "sam", "/customers");

        var grid = page.GetByTestId("customer-grid");
        await Expect(grid.Locator("tbody tr.mud-table-row").First).ToBeVisibleAsync();
        var search = page.Locator("[data-testid=filter-search] input, input[data-testid=filter-search]");
        await search.FillAsync(failed.Email);
        await search.PressAsync("Tab");
        await ConsolePages.ApplyFiltersAsync(page, new Regex("search="));
        await Expect(grid.GetByText(failed.Email)).ToBeVisibleAsync();
        await Expect(grid.Locator("tbody tr.mud-table-row")).ToHaveCountAsync(1);
        await BrowserFixture.ScreenshotAsync(page, "support-1-customer-search");
        await grid.Locator("tbody a").First.ClickAsync();

        await page.WaitForURLAsync($"**/customers/{failed.CustomerId}");
        var invoices = page.GetByTestId("customer-invoices");
        await Expect(invoices).ToContainTextAsync("open");
        await BrowserFixture.ScreenshotAsync(page, "support-2-customer");
        await invoices.Locator("tbody a").First.ClickAsync();

        await page.WaitForURLAsync($"**/invoices/{failed.InvoiceId}");
        await Expect(page.GetByTestId("payment-attempts")).ToContainTextAsync("insufficient_funds");
        await Expect(page.GetByTestId("dunning-case")).ToContainTextAsync("retry pending");
        await Expect(page.GetByTestId("void-invoice")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("mark-uncollectible")).ToHaveCountAsync(0);
        await page.GetByTestId("retry-payment").ClickAsync();
        var dialog = page.Locator(".mud-dialog");
        await Expect(dialog).ToContainTextAsync("Retry payment");
        await dialog.GetByTestId("reason-confirm").ClickAsync();
        await Expect(dialog).ToContainTextAsync("Reason is required");
        await BrowserFixture.ScreenshotAsync(page, "support-3-reason-required");
        await dialog.Locator("textarea").FillAsync("Customer called: new card attached");
        await dialog.GetByTestId("reason-confirm").ClickAsync();

        // A charge through the second process on a loaded machine: allow it more than the default wait.
        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("The payment succeeded", new() { Timeout = 60_000 });
        await Expect(page.GetByTestId("amount-due")).ToContainTextAsync("$0.00");
        await Expect(page.GetByTestId("invoice-status").Locator(".status-chip")).ToHaveAttributeAsync("data-status", "paid");
        await Expect(page.GetByTestId("dunning-case")).ToContainTextAsync("recovered");
        await Expect(page.GetByTestId("payment-attempts")).ToContainTextAsync("succeeded");
        await Expect(page.GetByTestId("retry-payment")).ToHaveCountAsync(0);
        await BrowserFixture.ScreenshotAsync(page, "support-4-invoice-paid");

        await page.GotoAsync($"/audit?actor={Uri.EscapeDataString("Sam Support")}&action=dunning.retry_now");
        var row = page.GetByTestId("audit-grid").Locator("tbody tr.mud-table-row").Filter(new() { HasText = "Customer called: new card attached" });
        await Expect(row).ToContainTextAsync("Sam Support");
        await Expect(row).ToContainTextAsync("support");
        await Expect(row).ToContainTextAsync("(succeeded)");
        await BrowserFixture.ScreenshotAsync(page, "support-5-audit");
    }

    [Fact]
    public async Task Finance_drills_from_the_aging_figure_into_overdue_invoices_and_exports_them_as_CSV()
    {
        // Fresh failures (this run's other tests make them) fall due today; one 45 days overdue puts the 31–60 bucket to the test alone.
        var overdue = await FailedInvoices.CreateAsync(host.Services);
        var number = await BackdateDueDateAsync(overdue.InvoiceId, TimeSpan.FromDays(45));
        await using (var scope = host.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<DashboardRefresher>().RefreshAsync(TestContext.Current.CancellationToken);
        await using var context = await browser.NewContextAsync(console.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInThroughProviderAsync(page, "fiona", "/");

        var bucket = page.GetByTestId("receivables-aging").Locator("tbody tr").Filter(new() { Has = page.GetByTestId("aging-USD-31") });
        await Expect(bucket).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "finance-1-dashboard");
        var expected = int.Parse(await bucket.Locator("td").Nth(1).InnerTextAsync(), NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.True(expected >= 1);
        await page.GetByTestId("aging-USD-31").ClickAsync();

        await page.WaitForURLAsync(new Regex(@"/invoices\?status=open&dueFrom=\d{4}-\d{2}-\d{2}&dueTo=\d{4}-\d{2}-\d{2}&currency=USD"));
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(page.Url).Query);
        var dueTo = DateOnly.Parse(query["dueTo"]!, CultureInfo.InvariantCulture);
        var dueFrom = DateOnly.Parse(query["dueFrom"]!, CultureInfo.InvariantCulture);
        var grid = page.GetByTestId("invoice-grid");
        await Expect(grid.GetByText(number)).ToBeVisibleAsync();
        await Expect(page.Locator(".mud-table-pagination-caption").Filter(new() { HasTextRegex = new Regex(@"\d+ of \d") }))
            .ToContainTextAsync($"of {expected:N0}");
        await Expect(grid.Locator("tbody tr.mud-table-row .status-chip[data-status=open]")).ToHaveCountAsync(Math.Min(expected, 25));
        await BrowserFixture.ScreenshotAsync(page, "finance-2-overdue-invoices");

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-csv").ClickAsync());
        var lines = await File.ReadAllLinesAsync(await download.PathAsync(), TestContext.Current.CancellationToken);

        Assert.Matches(@"^invoices-\d{8}-\d{4}\.csv$", download.SuggestedFilename);
        var header = CsvCells(lines[0]);
        var rows = lines.Skip(1).Where(l => l.Length > 0).Select(CsvCells).ToList();
        Assert.Equal(expected, rows.Count);
        int Column(string name) => header.IndexOf(name);
        Assert.Contains(rows, row => row[Column("Number")] == number);
        Assert.All(rows, row =>
        {
            Assert.Equal(header.Count, row.Count);
            Assert.Equal("open", row[Column("Status")]);
            var due = DateOnly.FromDateTime(DateTime.Parse(row[Column("DueAt")], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal));
            Assert.InRange(due, dueFrom, dueTo);
            Assert.True(decimal.Parse(row[Column("AmountDue")], CultureInfo.InvariantCulture) > 0m);
        });
    }

    /// <summary>Moves an invoice's issue and due dates back, as if it had been waiting that long; returns its number.</summary>
    private async Task<string> BackdateDueDateAsync(Guid invoiceId, TimeSpan by)
    {
        await using var command = host.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
            "update invoices set created_at = created_at - $2, issued_at = issued_at - $2, due_at = due_at - $2 where id = $1 returning number");
        command.Parameters.Add(new NpgsqlParameter { Value = invoiceId });
        command.Parameters.Add(new NpgsqlParameter { Value = by });
        return (string)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    /// <summary>One CSV record's cells (RFC 4180 quoting; the export writes one record per line).</summary>
    private static List<string> CsvCells(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted && c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
            else if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        cells.Add(cell.ToString());
        return cells;
    }
}
