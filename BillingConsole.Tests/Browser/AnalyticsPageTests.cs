using System.Globalization;
using BillingConsole.Components.Shared;
using BillingConsole.Domain.Common;
using BillingConsole.Engine.Accounting;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Dapper;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// Finance opens the Analytics page, picks a month, reads its MRR waterfall and table, and exports the same bridge as CSV;
/// the figures are the engine's recorded MRR of the demo history, the page fits 1440, 1280 and 390 px, and the export
/// refuses a month that is not one.
/// </summary>
public sealed class AnalyticsPageTests(ConsoleAppHost host, BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Finance_picks_a_month_sees_its_mrr_waterfall_and_exports_it()
    {
        var queries = host.Services.GetRequiredService<MrrBridgeQueries>();
        var month = (await queries.MonthsAsync(Ct))[1];
        var bridges = await queries.MonthAsync(month, Ct);
        var usd = bridges.Single(b => b.Currency == "USD");
        Assert.Equal(usd.Closing, usd.Opening + usd.Steps.Sum(s => s.Amount));
        Assert.Contains(usd.Steps, s => s.Kind == "new" && s.Amount > 0);

        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(1440, 900);
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Fay Finance", "/analytics");
        var monthName = month.ToString("MMMM yyyy", CultureInfo.InvariantCulture);
        await ConsolePages.PickAsync(page, page.GetByTestId("analytics-month"), monthName);
        await page.WaitForURLAsync($"**/analytics?month={MrrBridgeQueries.MonthText(month)}&*");

        var panel = page.GetByTestId("mrr-bridge-USD");
        await Expect(panel.GetByTestId("mrr-waterfall").Locator(":scope > div")).ToHaveCountAsync(MrrBridgeQueries.Kinds.Count + 2);
        await Expect(panel.GetByTestId("mrr-closing")).ToHaveTextAsync(AmountsText.Of(usd.Closing, "USD"));
        foreach (var step in usd.Steps)
            await Expect(panel.GetByTestId($"mrr-line-{step.Kind}")).ToContainTextAsync(AmountsText.Of(step.Amount, "USD"));
        await Expect(panel.GetByTestId("nrr")).ToHaveTextAsync(BillingConsole.Components.Pages.Analytics.AnalyticsPage.Rate(usd.NetRevenueRetention));
        await Expect(panel.GetByTestId("logo-churn")).ToHaveTextAsync(BillingConsole.Components.Pages.Analytics.AnalyticsPage.Rate(usd.LogoChurnRate));

        // The same month's address at the other widths: the page never scrolls sideways.
        var address = page.Url;
        foreach (var width in new[] { 1280, 390, 1440 })
        {
            await page.SetViewportSizeAsync(width, 900);
            await page.GotoAsync(address);
            // The figures as the circuit renders them, not the prerendered page it replaces.
            await Expect(page.Locator("[data-testid=mrr-bridges][data-interactive=yes]")).ToBeVisibleAsync();
            await Expect(panel.GetByTestId("mrr-closing")).ToHaveTextAsync(AmountsText.Of(usd.Closing, "USD"));
            await BrowserFixture.ScreenshotAsync(page, $"analytics-{width}");
            Assert.Equal(0, await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth"));
        }

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-csv").ClickAsync());
        Assert.Equal($"mrr-{MrrBridgeQueries.MonthText(month)}.csv", download.SuggestedFilename);
        var lines = await File.ReadAllLinesAsync(await download.PathAsync(), Ct);
        Assert.Equal("Month,Currency,Line,Subscriptions,Amount", lines[0]);
        var usdLines = lines.Skip(1).Select(l => l.Split(',')).Where(cells => cells[1] == "USD").ToList();
        decimal Amount(string line) => decimal.Parse(usdLines.Single(cells => cells[2] == line)[4], CultureInfo.InvariantCulture);
        Assert.Equal(usd.Opening, Amount("opening"));
        Assert.Equal(usd.Closing, Amount("closing"));
        foreach (var step in usd.Steps) Assert.Equal(step.Amount, Amount(step.Kind));
        Assert.Equal(bridges.Count * (MrrBridgeQueries.Kinds.Count + 2), lines.Skip(1).Count(l => l.Length > 0));

        // The MRR totals in the reporting currency, at the rates in force on the month's first and last days, or the sentence saying which rate is missing.
        var rates = await host.Services.GetRequiredService<ExchangeRateQueries>().CurrentAsync(Ct);
        var closingDay = month.AddMonths(1).AddDays(-1);
        var closing = rates.Total(bridges.Where(b => b.Closing != 0).Select(b => new Money(b.Closing, b.Currency)), closingDay);
        var reporting = page.GetByTestId("mrr-reporting");
        if (closing.Amount is { } total) await Expect(reporting.GetByTestId("closing-total-amount")).ToHaveTextAsync(AmountsText.Of(total, rates.ReportingCurrency));
        else await Expect(reporting.GetByTestId("closing-total-missing")).ToHaveTextAsync(closing.MissingSentence!);

        // The cohort table of the same month, its filters in the address, and its CSV the same figures.
        var cohorts = await host.Services.GetRequiredService<CohortQueries>().TableAsync("USD", month, 6, Ct);
        await ConsolePages.PickAsync(page, page.GetByTestId("cohort-count"), "6");
        await page.WaitForURLAsync("**&cohorts=6&*");
        var newest = cohorts[^1];
        var row = page.GetByTestId($"cohort-{MrrBridgeQueries.MonthText(newest.SignUpMonth)}");
        await Expect(page.GetByTestId("cohort-table").Locator("tbody tr")).ToHaveCountAsync(cohorts.Count);
        await Expect(row.GetByTestId("cohort-cell-0")).ToHaveTextAsync(
            ((double?)newest.LogoRetention(newest.Months[0]))?.ToString("0%", CultureInfo.InvariantCulture) ?? "—");
        var cohortDownload = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-cohorts").ClickAsync());
        var cohortLines = await File.ReadAllLinesAsync(await cohortDownload.PathAsync(), Ct);
        Assert.Equal(BillingConsole.Api.CsvExport.CohortHeader, cohortLines[0]);
        Assert.Equal(cohorts.Sum(c => c.Months.Count), cohortLines.Skip(1).Count(l => l.Length > 0));
        Assert.Equal(cohorts[0].Months.Sum(m => m.Retained), cohortLines.Skip(1).Select(l => l.Split(','))
            .Where(cells => cells[0] == MrrBridgeQueries.MonthText(cohorts[0].SignUpMonth)).Sum(cells => int.Parse(cells[6], CultureInfo.InvariantCulture)));
        await page.SetViewportSizeAsync(390, 900);
        await page.GetByTestId("cohort-table").ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ArtifactsDirectory, "analytics-cohorts-390.png") });
        await reporting.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ArtifactsDirectory, "analytics-reporting-390.png") });
        Assert.Equal(0, await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth"));

        // A month that is not one: a problem, not a file.
        var refused = await context.APIRequest.GetAsync("/export/mrr.csv?month=2027-13");
        Assert.Equal(400, refused.Status);
        Assert.Contains("yyyy-MM", await refused.TextAsync());
    }

    [Fact]
    public async Task Finance_reads_what_dunning_recovered_of_a_months_cases_and_it_matches_the_cases_themselves()
    {
        var month = (await host.Services.GetRequiredService<MrrBridgeQueries>().MonthsAsync(Ct))[2];
        var period = MrrBridgeQueries.PeriodOf(month);
        await using var connection = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        // Recomputed from the cases' own rows: how many opened in the month, how many recovered, on which day after opening.
        var cases = (await connection.QueryAsync<(string Status, DateTime OpenedAt, DateTime? ClosedAt)>(
            "select status, opened_at, closed_at from dunning_cases where opened_at >= @From and opened_at < @To", new { period.From, period.To })).ToList();
        var recoveredDays = cases.Where(c => c.Status == "recovered").Select(c => (int)Math.Floor((c.ClosedAt!.Value - c.OpenedAt).TotalDays)).ToList();
        Assert.NotEmpty(recoveredDays);

        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(1440, 900);
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Fay Finance", $"/analytics?month={MrrBridgeQueries.MonthText(month)}");
        await Expect(page.GetByTestId("recovery-cases")).ToHaveTextAsync(cases.Count.ToString("N0"));
        await Expect(page.GetByTestId("recovery-recovered")).ToHaveTextAsync(recoveredDays.Count.ToString("N0"));
        var firstDays = page.GetByTestId("recovery-by-days").Locator("tbody tr").First;
        await Expect(firstDays).ToContainTextAsync($"day 0{recoveredDays.Count(d => d == 0):N0}");
        await page.GetByTestId("recovery-summary").ScrollIntoViewIfNeededAsync();
        await BrowserFixture.ScreenshotAsync(page, "analytics-recovery");

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-recovery").ClickAsync());
        var rows = (await File.ReadAllLinesAsync(await download.PathAsync(), Ct)).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).ToList();
        Assert.Equal(cases.Count.ToString(CultureInfo.InvariantCulture), rows.Single(r => r[1] == "outcome" && r[2] == "opened")[3]);
        var byDays = rows.Where(r => r[1] == "days_to_recovery").ToList();
        Assert.Equal(DunningStatistics.RecoveryDayBuckets.Count, byDays.Count);
        Assert.Equal(recoveredDays.Count, byDays.Sum(r => int.Parse(r[3], CultureInfo.InvariantCulture)));
        foreach (var ((from, to), row) in DunningStatistics.RecoveryDayBuckets.Zip(byDays))
            Assert.Equal(recoveredDays.Count(d => d >= from && (to is not { } last || d <= last)), int.Parse(row[3], CultureInfo.InvariantCulture));
        var retries = rows.Where(r => r[1] == "retry_number").ToList();
        Assert.Equal(await connection.QuerySingleAsync<long>("""
            select count(*) from dunning_cases d join payment_attempts a on a.invoice_id = d.invoice_id
            where d.opened_at >= @From and d.opened_at < @To and a.trigger = 'dunning_retry' and a.status in ('succeeded', 'failed')
              and a.started_at >= d.opened_at and (d.closed_at is null or a.started_at <= d.closed_at)
            """, new { period.From, period.To }), retries.Sum(r => long.Parse(r[3], CultureInfo.InvariantCulture)));
    }
}
