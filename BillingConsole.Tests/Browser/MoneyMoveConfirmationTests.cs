using System.Text.RegularExpressions;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Engine.Dunning;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static BillingConsole.Tests.Browser.AdminPages;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// Changes that move money show their effect before they happen, in chromium through the identity provider: a dunning
/// policy's impact on open cases (and the save does exactly that), a version for new cases only, reopening a written-off
/// invoice, and a bulk retry that acts only on the filter the list shows. Run alone: a policy saved for open cases closes
/// cases every other test could be counting.
/// </summary>
[Collection(OidcSerialCollection.Name)]
public sealed partial class MoneyMoveConfirmationTests(OidcConsoleHost console, ConsoleAppHost host, BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static BillingConsole.Persistence.BillingDbContext Db() => TestDatabases.NewContext(TestServers.DefaultConnectionString);

    private static async Task<DunningCase> CaseAsync(Guid caseId)
    {
        await using var db = Db();
        return await db.DunningCases.AsNoTracking().SingleAsync(c => c.Id == caseId, Ct);
    }

    /// <summary>The page as a desk and as a phone show it.</summary>
    private static async Task ScreenshotsAsync(IPage page, string name)
    {
        var desk = page.ViewportSize;
        await BrowserFixture.ScreenshotAsync(page, name);
        await page.SetViewportSizeAsync(390, 844);
        await BrowserFixture.ScreenshotAsync(page, name + "-390");
        if (desk is not null) await page.SetViewportSizeAsync(desk.Width, desk.Height);
        // The navigation drawer slides back with the width, moving the page under the next click: wait until it stands.
        await page.WaitForFunctionAsync("() => document.getAnimations().every(a => !(a instanceof CSSTransition))");
    }

    private static async Task SaveThroughConfirmationAsync(IPage page, string budget, bool openCases, string reason)
    {
        await FillAsync(page, "policy-budget", budget);
        await page.GetByTestId(openCases ? "reach-open-cases" : "reach-new-cases").ClickAsync();
        await FillAsync(page, "policy-reason", reason);
        await page.GetByTestId("save-policy").ClickAsync();
        await Expect(page.GetByTestId("policy-impact")).ToBeVisibleAsync(new() { Timeout = 60_000 });
    }

    [Fact]
    public async Task An_admin_sees_what_a_policy_does_to_open_cases_before_saving_and_the_save_does_exactly_that()
    {
        var untouched = await FailedInvoices.CreateAsync(host.Services);
        var writtenOff = await FailedInvoices.CreateAsync(host.Services);
        var before = await CaseAsync(untouched.CaseId);
        int inForce;
        int budget;
        await using (var db = Db())
        {
            inForce = await db.DunningPolicies.MaxAsync(p => p.Version, Ct);
            // Only the cases that made the most retries close: the smallest change that still closes some.
            budget = Math.Max(1, await db.DunningCases.Where(c => c.Status == DunningStatus.RetryPending).MaxAsync(c => c.RetriesMade, Ct));
        }
        await using var context = await browser.NewContextAsync(console.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInThroughProviderAsync(page, "ada", "/settings/dunning");
        await WaitUntilInteractiveAsync(page);

        // New cases only: the confirmation says open cases keep their version, and they do.
        await SaveThroughConfirmationAsync(page, "2", openCases: false, "Two retries for new cases");
        await Expect(page.GetByTestId("policy-impact")).ToContainTextAsync("Nothing changes for open cases");
        await BrowserFixture.ScreenshotAsync(page, "dunning-policy-new-cases-only");
        await page.GetByTestId("confirm-save-policy").ClickAsync();
        await Expect(page.GetByTestId("policy-in-force")).ToContainTextAsync($"Version {inForce + 1} in force", new() { Timeout = 60_000 });
        var kept = await CaseAsync(untouched.CaseId);
        Assert.Equal((before.PolicyVersion, before.NextAttemptAt, before.Status), (kept.PolicyVersion, kept.NextAttemptAt, kept.Status));

        // For open cases: the confirmation counts what closes, what is written off and what moves; the save reports the same.
        await SaveThroughConfirmationAsync(page, budget.ToString(System.Globalization.CultureInfo.InvariantCulture), openCases: true, "Budget down to the longest case");
        var preview = ImpactSentence().Match(await page.GetByTestId("policy-impact").InnerTextAsync());
        Assert.True(preview.Success, await page.GetByTestId("policy-impact").InnerTextAsync());
        await ScreenshotsAsync(page, "dunning-policy-impact");
        var saveStarted = DateTimeOffset.UtcNow;
        await page.GetByTestId("confirm-save-policy").ClickAsync();
        var snackbar = page.Locator(".mud-snackbar").Filter(new() { HasText = $"Version {inForce + 2} saved" });
        await Expect(snackbar).ToBeVisibleAsync(new() { Timeout = 120_000 });
        var done = SavedSentence().Match(await snackbar.InnerTextAsync());
        Assert.True(done.Success, await snackbar.InnerTextAsync());
        Assert.Equal((preview.Groups["closing"].Value, preview.Groups["writtenOff"].Value, preview.Groups["moving"].Value, preview.Groups["card"].Value),
            (done.Groups["closing"].Value, done.Groups["writtenOff"].Value, done.Groups["moving"].Value, done.Groups["card"].Value));
        await using (var db = Db())
        {
            var closed = await db.DunningCases.CountAsync(c => c.PolicyVersion == inForce + 2 && c.Status == DunningStatus.Exhausted && c.ClosedAt >= saveStarted, Ct);
            Assert.Equal(int.Parse(preview.Groups["closing"].Value, System.Globalization.CultureInfo.InvariantCulture), closed);
            Assert.Equal(inForce + 2, (await db.DunningCases.AsNoTracking().SingleAsync(c => c.Id == untouched.CaseId, Ct)).PolicyVersion);
        }

        // A written-off invoice is reopened into dunning and retried.
        await OpenAsync(page, $"/invoices/{writtenOff.InvoiceId}");
        await page.GetByTestId("mark-uncollectible").ClickAsync();
        await page.Locator(".mud-dialog textarea").FillAsync("Customer unreachable");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();
        await Expect(page.GetByTestId("invoice-status").Locator(".status-chip")).ToHaveAttributeAsync("data-status", "uncollectible");
        await page.GetByTestId("reopen-invoice").ClickAsync();
        await Expect(page.Locator(".mud-dialog")).ToContainTextAsync("bad debt back to receivable");
        await page.Locator(".mud-dialog textarea").FillAsync("Customer called back with a new card");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();
        await Expect(page.GetByTestId("invoice-status").Locator(".status-chip")).ToHaveAttributeAsync("data-status", "open");
        await Expect(page.GetByTestId("dunning-case").Filter(new() { HasText = "retry pending" })).ToHaveCountAsync(1);
        await ScreenshotsAsync(page, "invoice-reopened");
        // Followed by its address, not clicked: the live updates re-render the case row as the reopen lands, and a click on
        // the replaced row is lost.
        var caseLink = await page.GetByTestId("dunning-case").Filter(new() { HasText = "retry pending" }).GetByTestId("dunning-case-link").GetAttributeAsync("href");
        await OpenAsync(page, caseLink!);
        await Expect(page.GetByTestId("next-retry-at")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("reset-case")).ToHaveCountAsync(0);
        await ScreenshotsAsync(page, "dunning-case-reopened");
        await OpenAsync(page, $"/invoices/{writtenOff.InvoiceId}");
        await page.GetByTestId("retry-payment").ClickAsync();
        await page.Locator(".mud-dialog textarea").FillAsync("Charge the new card");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();
        await Expect(page.GetByTestId("invoice-status").Locator(".status-chip")).ToHaveAttributeAsync("data-status", "paid", new() { Timeout = 60_000 });
        await using (var db = Db())
        {
            Assert.Equal(InvoiceStatus.Paid, (await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == writtenOff.InvoiceId, Ct)).Status);
            Assert.True(await db.AuditLog.AnyAsync(a => a.Action == "invoice.reopened" && a.EntityId == writtenOff.InvoiceId.ToString(), Ct));
        }

        // Leave the installation on the policy it had.
        await OpenAsync(page, "/settings/dunning");
        await FillAsync(page, "restore-reason", "Back to the policy before the test");
        await page.GetByTestId($"restore-{inForce}").ClickAsync();
        await Expect(page.GetByTestId("policy-in-force")).ToContainTextAsync($"Version {inForce + 3} in force", new() { Timeout = 120_000 });
    }

    [Fact]
    public async Task A_bulk_retry_cannot_start_while_a_typed_filter_is_not_applied_and_acts_on_the_applied_one()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services);
        await using var context = await browser.NewContextAsync(console.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInThroughProviderAsync(page, "sam", "/dunning");
        await WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("bulk-retry")).ToBeVisibleAsync();
        var search = page.Locator("[data-testid=filter-search] input, input[data-testid=filter-search]");

        // Typed, not applied: the list still shows every case, so no bulk retry is offered.
        // One input event for the whole text: a key at a time is a round trip per key, which a loaded machine queues for longer
        // than the wait below.
        await search.FillAsync(failed.Email);
        await Expect(page.GetByTestId("bulk-filter-pending")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("bulk-retry")).ToHaveCountAsync(0);
        await ScreenshotsAsync(page, "bulk-retry-filter-pending");

        await ConsolePages.ApplyFiltersAsync(page, new Regex("search="));
        await page.GetByTestId("bulk-retry").ClickAsync();
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var selection = await scope.ServiceProvider.GetRequiredService<BulkRetryService>().SelectAsync(new DunningQueueFilter { Search = failed.Email }, Ct);
            Assert.Equal(1, selection.Count);
        }
        await Expect(page.GetByTestId("bulk-count")).ToContainTextAsync("Retry 1 case now");

        // Typing another filter takes the confirmation away until it is applied.
        await search.FillAsync("someone else");
        await Expect(page.GetByTestId("bulk-start")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("bulk-filter-pending")).ToBeVisibleAsync();
    }

    [GeneratedRegex(@"Of (?<waiting>\d+) cases? waiting for a retry: (?<closing>\d+) cases? closes? now \([^)]*\)(?:, writing off (?<writtenOff>.+?))?, (?<moving>\d+) retr(?:y|ies) moves?, (?<card>\d+) cases? waits? for a new card")]
    private static partial Regex ImpactSentence();

    [GeneratedRegex(@"saved and in force for open cases: (?<closing>\d+) cases? closed(?:, wrote off (?<writtenOff>.+?))?, (?<moving>\d+) retr(?:y|ies) moved, (?<card>\d+) cases? waiting for a new card")]
    private static partial Regex SavedSentence();
}
