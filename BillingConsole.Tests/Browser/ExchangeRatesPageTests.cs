using System.Globalization;
using BillingConsole.Components.Shared;
using BillingConsole.Domain.Common;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static BillingConsole.Tests.Browser.AdminPages;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// An admin enters an exchange rate on Settings → Exchange rates (a rate of 0 is refused under its field, nothing stored),
/// then finance's dashboard shows MRR in the reporting currency at that rate, with the amounts per currency one click away.
/// </summary>
public sealed class ExchangeRatesPageTests(ConsoleAppHost host, BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_enters_a_rate_and_the_dashboard_totals_mrr_in_the_reporting_currency_with_the_currencies_one_click_away()
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(1440, 900);
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Ada Admin", "/settings/exchange-rates");
        await WaitUntilInteractiveAsync(page);
        await using var connection = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        // The demo's history has a euro rate of its own, in force from its first day: this test's rate takes over from the
        // dashboard's day.
        const string CountEuroRates = "select count(*)::int from exchange_rates where base_currency = 'EUR' or quote_currency = 'EUR'";
        var euroRates = await connection.QuerySingleAsync<int>(CountEuroRates);
        var (current, _, _) = await host.Services.GetRequiredService<DashboardQueries>().CurrentOrLastAsync(Ct);
        try
        {
            await ConsolePages.PickAsync(page, page.GetByTestId("rate-base"), "EUR");
            await FillAsync(page, "rate-value", "0");
            await FillAsync(page, "rate-effective", current!.Today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            await FillAsync(page, "rate-reason", "Group rate for the year");
            await page.GetByTestId("rate-save").ClickAsync();
            await Expect(page.GetByText("A rate is more than 0.")).ToBeVisibleAsync();
            Assert.Equal(euroRates, await connection.QuerySingleAsync<int>(CountEuroRates));

            await FillAsync(page, "rate-value", "1.1");
            await page.GetByTestId("rate-save").ClickAsync();
            await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("Rate entered");
            await Expect(page.GetByTestId("rates")).ToContainTextAsync("EUR → USD");
            await BrowserFixture.ScreenshotAsync(page, "settings-exchange-rates");

            var (figures, rates, _) = await host.Services.GetRequiredService<DashboardQueries>().CurrentOrLastAsync(Ct);
            var mrr = rates!.Total(figures!.MrrByCurrency.Select(m => new Money(m.Amount, m.Currency)), figures.Today);
            await page.GotoAsync("/");
            var card = page.GetByTestId("figure-mrr");
            await Expect(page.Locator("[data-testid=figures-age]")).ToBeVisibleAsync();
            await WaitUntilInteractiveAsync(page);
            if (mrr.Amount is { } total)
            {
                await Expect(card.GetByTestId("mrr-total-amount")).ToHaveTextAsync(AmountsText.Of(total, "USD"));
                await card.GetByTestId("mrr-total-toggle").ClickAsync();
            }
            else
            {
                // Other tests bill in currencies this rate does not convert: then the sentence says which, and the amounts per
                // currency show without a toggle.
                await Expect(card.GetByTestId("mrr-total-missing")).ToHaveTextAsync(mrr.MissingSentence!);
                await Expect(card.GetByTestId("mrr-total-toggle")).ToHaveCountAsync(0);
            }
            foreach (var amount in figures.MrrByCurrency)
                await Expect(card.GetByTestId("mrr-total-currencies")).ToContainTextAsync(AmountsText.Of(amount.Amount, amount.Currency));
            foreach (var width in new[] { 1440, 390 })
            {
                await page.SetViewportSizeAsync(width, 900);
                await BrowserFixture.ScreenshotAsync(page, $"dashboard-reporting-{width}");
                Assert.Equal(0, await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth"));
            }
        }
        finally
        {
            // The shared console's other tests find the rates as the demo left them.
            await connection.ExecuteAsync("delete from exchange_rates where entered_by = 'Ada Admin'");
        }
    }
}
