using System.Globalization;
using BillingConsole.Components.Shared;
using BillingConsole.Domain.Ledger;
using BillingConsole.Engine.Accounting;
using BillingConsole.Engine.Commands;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static BillingConsole.Tests.Browser.AdminPages;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// Finance closes a month on the Journal page: the trial balance of the demo ledger equals the ledger's own sums, the
/// journal CSV balances and lists every line of the period; a period that is not one is refused. An admin gives the revenue
/// account the business's own code, and the next export writes it.
/// </summary>
public sealed class JournalPageTests(ConsoleAppHost host, BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Finance_reads_a_months_trial_balance_and_exports_its_journal_and_an_admin_sets_an_account_code()
    {
        var journal = host.Services.GetRequiredService<JournalQueries>();
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, journal.Zone).DateTime);
        var month = JournalPeriod.MonthBefore(JournalPeriod.MonthBefore(today).From);
        var (start, end) = month.Instants(journal.Zone);
        await using var connection = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        var ledger = (await connection.QueryAsync<(string Currency, int Lines, decimal Debits)>(
            "select currency, count(*)::int, sum(debit) from ledger_entries where occurred_at >= @start and occurred_at < @end group by currency",
            new { start, end })).ToDictionary(r => r.Currency);
        Assert.True(ledger.ContainsKey("USD"), "the demo ledger has a month before last");

        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(1440, 900);
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Fay Finance", "/journal");
        await WaitUntilInteractiveAsync(page);
        await ConsolePages.PickAsync(page, page.GetByTestId("journal-month"), month.From.ToString("MMMM yyyy", CultureInfo.InvariantCulture));
        await page.WaitForURLAsync($"**/journal?from={month.FromText}&to={month.ToText}");

        var usd = page.GetByTestId("trial-balance-USD");
        await Expect(usd.GetByTestId("balanced")).ToBeVisibleAsync();
        await Expect(usd.GetByTestId("total-debits")).ToHaveTextAsync(AmountsText.Of(ledger["USD"].Debits, "USD"));
        await Expect(usd.GetByTestId("total-credits")).ToHaveTextAsync(AmountsText.Of(ledger["USD"].Debits, "USD"));
        await Expect(usd.GetByTestId("account-1200")).ToContainTextAsync("Accounts receivable");
        var address = page.Url;
        foreach (var width in new[] { 1280, 390, 1440 })
        {
            await page.SetViewportSizeAsync(width, 900);
            await page.GotoAsync(address);
            await Expect(page.Locator("[data-testid=trial-balance][data-interactive=yes]")).ToBeVisibleAsync();
            await BrowserFixture.ScreenshotAsync(page, $"journal-{width}");
            Assert.Equal(0, await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth"));
        }

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-journal").ClickAsync());
        Assert.Equal($"journal-{month.FromText}-to-{month.ToText}.csv", download.SuggestedFilename);
        var lines = await File.ReadAllLinesAsync(await download.PathAsync(), Ct);
        Assert.Equal(BillingConsole.Api.CsvExport.JournalHeader, lines[0]);
        var rows = lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).ToList();
        Assert.Equal(ledger.Values.Sum(l => l.Lines), rows.Count);
        foreach (var currency in rows.GroupBy(r => r[9]))
        {
            Assert.Equal(currency.Sum(r => decimal.Parse(r[7], CultureInfo.InvariantCulture)), currency.Sum(r => decimal.Parse(r[8], CultureInfo.InvariantCulture)));
            Assert.Equal(ledger[currency.Key].Debits, currency.Sum(r => decimal.Parse(r[7], CultureInfo.InvariantCulture)));
        }

        // Dates in the wrong order, typed on the page and asked of the export.
        await FillAsync(page, "journal-from", month.ToText);
        await FillAsync(page, "journal-to", month.FromText);
        await page.GetByTestId("journal-show").ClickAsync();
        await Expect(page.GetByTestId("journal-invalid")).ToContainTextAsync("to is before from");
        var refused = await context.APIRequest.GetAsync($"/export/journal.csv?from={month.FromText}&to=2027-02-30");
        Assert.Equal(400, refused.Status);
        Assert.Contains("to must be a date", await refused.TextAsync());

        await using var adminContext = await browser.NewContextAsync(host.BaseAddress);
        page = await adminContext.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Ada Admin", "/settings/accounting");
        await WaitUntilInteractiveAsync(page);
        try
        {
            await FillAsync(page, "code-revenue", "1200");
            await FillAsync(page, "accounting-reason", "Codes of our accounting system");
            await page.GetByTestId("accounting-save").ClickAsync();
            await Expect(page.GetByText("Code 1200 is already given to another account", new() { Exact = false })).ToBeVisibleAsync();
            await FillAsync(page, "code-revenue", "4000-SUB");
            await page.GetByTestId("accounting-save").ClickAsync();
            await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("Account codes saved");
            await BrowserFixture.ScreenshotAsync(page, "settings-accounting");

            var balance = await context.APIRequest.GetAsync($"/export/trial-balance.csv?from={month.FromText}&to={month.ToText}");
            Assert.Contains(",USD,4000-SUB,Subscription revenue,", await balance.TextAsync());
        }
        finally
        {
            // The shared console's other tests read the default codes.
            await using var scope = host.Services.CreateAsyncScope();
            var defaults = SaveAccountCodes.From(AccountCodes.Default);
            defaults.Reason = "Back to the defaults";
            await scope.ServiceProvider.GetRequiredService<AccountingSettingsCommands>().SaveAsync(defaults, Actor.System, Ct);
        }
    }
}
