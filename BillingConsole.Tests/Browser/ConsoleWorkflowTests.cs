using System.Globalization;
using System.Text.RegularExpressions;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Playwright;
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

        await page.Locator("[data-testid=filter-search] input, input[data-testid=filter-search]").FillAsync(failed.Email);
        await page.GetByTestId("filter-apply").ClickAsync();
        var grid = page.GetByTestId("customer-grid");
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

        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("The payment succeeded");
        await Expect(page.GetByTestId("amount-due")).ToContainTextAsync("$0.00");
        await Expect(page.Locator("[data-testid=invoice-number] ~ .status-chip").First).ToHaveAttributeAsync("data-status", "paid");
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
        await using var context = await browser.NewContextAsync(console.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInThroughProviderAsync(page, "fiona", "/");

        var aging = page.GetByTestId("receivables-aging");
        await Expect(aging).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "finance-1-dashboard");
        await (await FirstNonEmptyBucketAsync(aging)).Locator("a").ClickAsync();

        await page.WaitForURLAsync(new Regex(@"/invoices\?status=open&dueTo=\d{4}-\d{2}-\d{2}"));
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(page.Url).Query);
        var dueTo = DateOnly.Parse(query["dueTo"]!, CultureInfo.InvariantCulture);
        DateOnly? dueFrom = query.TryGetValue("dueFrom", out var from) ? DateOnly.Parse(from!, CultureInfo.InvariantCulture) : null;
        var grid = page.GetByTestId("invoice-grid");
        await Expect(grid.Locator("tbody tr.mud-table-row").First).ToBeVisibleAsync();
        var caption = page.Locator(".mud-table-pagination-caption");
        await Expect(caption).ToContainTextAsync(" of ");
        // The list is live and the figure a snapshot: the CSV is checked against the list the person is looking at.
        var expected = int.Parse(Regex.Match(await caption.InnerTextAsync(), @"of ([\d,]+)").Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.True(expected > 0);
        await Expect(grid.Locator("tbody tr.mud-table-row .status-chip[data-status=open]")).ToHaveCountAsync(Math.Min(expected, 25));
        await BrowserFixture.ScreenshotAsync(page, "finance-2-overdue-invoices");

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-csv").ClickAsync());
        var path = await download.PathAsync();
        var lines = await File.ReadAllLinesAsync(path, TestContext.Current.CancellationToken);

        Assert.Matches(@"^invoices-\d{8}-\d{4}\.csv$", download.SuggestedFilename);
        var header = CsvCells(lines[0]);
        var rows = lines.Skip(1).Where(l => l.Length > 0).Select(CsvCells).ToList();
        Assert.Equal(expected, rows.Count);
        Assert.All(rows, row => Assert.Equal(header.Count, row.Count));
        int Column(string name) => header.IndexOf(name);
        Assert.All(rows, row =>
        {
            Assert.Equal("open", row[Column("Status")]);
            var due = DateOnly.FromDateTime(DateTime.Parse(row[Column("DueAt")], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal));
            Assert.True(due <= dueTo, $"{due} is after {dueTo}");
            if (dueFrom is { } lower) Assert.True(due >= lower, $"{due} is before {lower}");
            Assert.True(decimal.Parse(row[Column("AmountDue")], CultureInfo.InvariantCulture) > 0m);
        });
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

    /// <summary>
    /// The oldest-first aging bucket that holds invoices, past 30 days where there are any: other tests keep adding invoices
    /// that fall due today, and the list and its export should count the same invoices.
    /// </summary>
    private static async Task<ILocator> FirstNonEmptyBucketAsync(ILocator aging)
    {
        var rows = aging.Locator("tbody tr");
        var count = await rows.CountAsync();
        foreach (var i in Enumerable.Range(1, count - 1).Append(0))
        {
            var invoices = await rows.Nth(i).Locator("td").Nth(1).InnerTextAsync();
            if (invoices.Trim() != "0") return rows.Nth(i);
        }
        throw new InvalidOperationException("Every aging bucket is empty: the demo data should hold overdue invoices.");
    }
}
