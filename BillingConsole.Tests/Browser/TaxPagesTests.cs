using System.Globalization;
using BillingConsole.Components.Shared;
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
/// An admin adds a tax rule on Settings → Tax rules (a negative rate is refused on the field first); finance reads a month's tax
/// report, whose tax per currency is what the ledger's tax payable account moved, and exports it.
/// </summary>
public sealed class TaxPagesTests(ConsoleAppHost host, BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_adds_a_tax_rule_and_finance_reads_a_tax_report_that_matches_the_ledger()
    {
        var before = await InScopeAsync<TaxRuleCommands, TaxTableVersionView>(tax => tax.CurrentAsync(Ct));
        await using var adminContext = await browser.NewContextAsync(host.BaseAddress);
        var page = await adminContext.NewPageAsync();
        await page.SetViewportSizeAsync(1440, 900);
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Ada Admin", "/settings/tax");
        await WaitUntilInteractiveAsync(page);
        try
        {
            // A country no demo customer lives in, and a seller outside the EU, so that the shared console's other tests bill as before.
            await FillAsync(page, "tax-seller", "AQ");
            await FillAsync(page, "tax-country", "AQ");
            await FillAsync(page, "tax-rate", "-5");
            await FillAsync(page, "tax-from", "2027-01-01");
            await FillAsync(page, "tax-reason", "Research station VAT");
            await page.GetByTestId("tax-add").ClickAsync();
            await Expect(page.GetByText("A tax rate is a percentage between 0 and 100.")).ToBeVisibleAsync();
            // The role matrix may save versions of its own meanwhile: this test looks for its own rule, not at version numbers.
            Assert.DoesNotContain((await InScopeAsync<TaxRuleCommands, TaxTableVersionView>(tax => tax.CurrentAsync(Ct))).Table.Rules, r => r.Country == "AQ");

            await FillAsync(page, "tax-rate", "7.5");
            await page.GetByTestId("tax-add").ClickAsync();
            await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("Rule added");
            await Expect(page.GetByTestId("tax-rule-AQ-2027-01-01")).ToContainTextAsync("7.5 %");
            var versions = await InScopeAsync<TaxRuleCommands, IReadOnlyList<TaxTableVersionView>>(tax => tax.VersionsAsync(Ct));
            var saved = versions.Last(v => v.Table.Rules.Any(r => r.Country == "AQ"));
            Assert.Equal((true, "AQ", "Research station VAT"), (saved.Version > before.Version, saved.Table.SellerCountry, saved.Reason));
            await ScreenshotsAsync(page, "settings-tax");
        }
        finally
        {
            await InScopeAsync<TaxRuleCommands, TaxTableVersionView>(tax => tax.SaveAsync(new SaveTaxTable(
                before.Version == 0 ? "AQ" : before.Table.SellerCountry, [.. before.Table.Rules.Select(TaxRuleInput.Of)], "Back as before the test"), Actor.System, Ct));
        }

        var journal = host.Services.GetRequiredService<JournalQueries>();
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, journal.Zone).DateTime);
        var month = JournalPeriod.MonthBefore(JournalPeriod.MonthBefore(today).From);
        var (start, end) = month.Instants(journal.Zone);
        await using var connection = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        var taxPayable = (await connection.QueryAsync<(string Currency, decimal Moved)>(
            "select currency, sum(credit - debit) from ledger_entries where account = 'tax_payable' and occurred_at >= @start and occurred_at < @end group by currency",
            new { start, end })).ToDictionary(r => r.Currency, r => r.Moved);
        Assert.True(taxPayable.Values.Any(moved => moved > 0m), "the demo ledger has tax in the month before last");

        await using var financeContext = await browser.NewContextAsync(host.BaseAddress);
        page = await financeContext.NewPageAsync();
        await page.SetViewportSizeAsync(1440, 900);
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Fay Finance", $"/tax-report?from={month.FromText}&to={month.ToText}");
        await WaitUntilInteractiveAsync(page);
        foreach (var (currency, moved) in taxPayable)
            await Expect(page.GetByTestId($"tax-{currency}").GetByTestId("total-tax")).ToHaveTextAsync(AmountsText.Of(moved, currency));
        await ScreenshotsAsync(page, "tax-report");

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-tax").ClickAsync());
        Assert.Equal($"tax-{month.FromText}-to-{month.ToText}.csv", download.SuggestedFilename);
        var rows = (await File.ReadAllLinesAsync(await download.PathAsync(), Ct)).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).ToList();
        // Currencies taxed at 0 % post nothing to tax payable: their rows add up to nothing.
        var csvTax = rows.GroupBy(r => r[6]).ToDictionary(g => g.Key, g => g.Sum(r => decimal.Parse(r[9], CultureInfo.InvariantCulture)));
        Assert.Equal(taxPayable, csvTax.Where(c => c.Value != 0m).ToDictionary());
        var refused = await financeContext.APIRequest.GetAsync($"/export/tax.csv?from={month.ToText}&to={month.FromText}");
        Assert.Equal(400, refused.Status);
    }

    private async Task<T> InScopeAsync<TService, T>(Func<TService, Task<T>> action) where TService : notnull
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<TService>());
    }

    /// <summary>The page opened at a phone and a desktop width, with nothing wider than the window.</summary>
    private static async Task ScreenshotsAsync(Microsoft.Playwright.IPage page, string name)
    {
        var address = page.Url;
        foreach (var width in new[] { 390, 1440 })
        {
            await page.SetViewportSizeAsync(width, 900);
            await OpenAsync(page, address);
            await BrowserFixture.ScreenshotAsync(page, $"{name}-{width}");
            Assert.Equal(0, await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth"));
        }
    }
}
