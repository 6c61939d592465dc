using System.Globalization;
using System.Text.RegularExpressions;
using BillingConsole.Domain.Billing;
using BillingConsole.Domain.Payments;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static BillingConsole.Tests.Browser.AdminPages;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// Ada starts a billing run from the console (the node she uses runs no workers: the test host's Hangfire workers, sharing the
/// database, carry the chunks out as a second node would) and watches it finish.
/// </summary>
[Collection(OidcCollection.Name)]
public sealed class BillingRunsPageTests(OidcConsoleHost console, BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_starts_a_run_sees_it_finish_with_the_database_figures_and_drills_into_its_failures()
    {
        var data = new BillingTestData(() => TestDatabases.NewContext(TestServers.DefaultConnectionString), DateTimeOffset.UtcNow);
        var (_, price) = await data.PlanAsync(15m);
        await data.DueSubscriptionsAsync(price, 40, "pm_ok_", "pm_ok_", "pm_insufficient_funds_", "pm_do_not_honor_");

        await using var context = await browser.NewContextAsync(console.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInThroughProviderAsync(page, "ada", "/billing-runs");
        await WaitUntilInteractiveAsync(page);
        await page.GetByTestId("start-run").ClickAsync();
        await Expect(page.GetByText("Give a reason: it goes in the audit log.")).ToBeVisibleAsync();
        await FillAsync(page, "run-reason", "Month-end catch-up");
        await page.GetByTestId("start-run").ClickAsync();
        // The confirmation states what the run will bill before anything starts.
        var confirmation = page.GetByTestId("run-confirm-due");
        await Expect(confirmation).ToContainTextAsync("due now");
        await Expect(confirmation).ToContainTextAsync(new Regex(@"about [^\s\d]+[\d,]+\.\d\d"));
        var shownDue = int.Parse(Regex.Match(await confirmation.InnerTextAsync(), @"^([\d,]+) subscriptions? (is|are) due").Groups[1].Value,
            NumberStyles.AllowThousands, CultureInfo.GetCultureInfo("en-US"));
        Assert.True(shownDue >= 40, $"{shownDue} due");
        await using (var db = TestDatabases.NewContext(TestServers.DefaultConnectionString))
            Assert.False(await db.BillingRuns.AnyAsync(r => r.Trigger == "manual" && r.Status == BillingRunStatus.Running, Ct));
        await BrowserFixture.ScreenshotAsync(page, "billing-run-confirm");
        await page.GetByTestId("confirm-run").ClickAsync();

        await Expect(page.GetByTestId("run-progress")).ToContainTextAsync($"started by {TestIdentityProvider.Users["ada"].Name} (manual)");
        await BrowserFixture.ScreenshotAsync(page, "billing-run-progress");
        await Expect(page.GetByTestId("run-progress").Locator("[data-status=completed]")).ToBeVisibleAsync(new() { Timeout = 120_000 });
        await BrowserFixture.ScreenshotAsync(page, "billing-run-finished");

        BillingRun run;
        int failedAttempts;
        await using (var db = TestDatabases.NewContext(TestServers.DefaultConnectionString))
        {
            run = await db.BillingRuns.AsNoTracking().Where(r => r.Trigger == "manual").OrderByDescending(r => r.StartedAt).FirstAsync(Ct);
            failedAttempts = await db.PaymentAttempts.CountAsync(a => a.Trigger == PaymentTrigger.BillingRun && a.Status == PaymentAttemptStatus.Failed
                && db.Invoices.Any(i => i.Id == a.InvoiceId && i.BillingRunId == run.Id), Ct);
            Assert.Equal(BillingRunStatus.Completed, run.Status);
            Assert.Equal(TestIdentityProvider.Users["ada"].Name, run.StartedBy);
            Assert.True(await db.AuditLog.AnyAsync(a => a.Action == "billing_run.start" && a.EntityId == run.Id.ToString() && a.Reason == "Month-end catch-up", Ct));
        }
        Assert.True(run.DueCount >= 40 && run.FailedCount >= 20, $"due {run.DueCount}, failed {run.FailedCount}");
        Assert.Equal(shownDue, run.DueCount);
        static string N(int value) => value.ToString("N0", CultureInfo.GetCultureInfo("en-US"));
        await Expect(page.GetByTestId("run-due")).ToContainTextAsync(N(run.DueCount));
        await Expect(page.GetByTestId("run-invoiced")).ToContainTextAsync(N(run.InvoicedCount));
        await Expect(page.GetByTestId("run-charged")).ToContainTextAsync(N(run.ChargedCount));
        await Expect(page.GetByTestId("run-failed")).ToContainTextAsync(N(run.FailedCount));

        await page.Locator($"a[href='/billing-runs/{run.Id}']").ClickAsync();
        await WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("run-failures").Locator("tbody tr")).ToHaveCountAsync(failedAttempts);
        await Expect(page.GetByTestId("failure-decline-code").Filter(new() { HasText = "insufficient_funds" }).First).ToBeVisibleAsync();
        await Expect(page.GetByTestId("failure-decline-code").Filter(new() { HasText = "do_not_honor" }).First).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "billing-run-failures");
    }
}
