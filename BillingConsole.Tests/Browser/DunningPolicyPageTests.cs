using System.Globalization;
using BillingConsole.Domain.Dunning;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static BillingConsole.Tests.Browser.AdminPages;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>Ada, an admin signed in through the identity provider, tunes the dunning policy of the demo installation.</summary>
[Collection(OidcCollection.Name)]
public sealed class DunningPolicyPageTests(OidcConsoleHost console, BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<DunningPolicyVersion> NewestAsync()
    {
        await using var db = TestDatabases.NewContext(TestServers.DefaultConnectionString);
        return await db.DunningPolicies.AsNoTracking().OrderByDescending(p => p.Version).FirstAsync(Ct);
    }

    [Fact]
    public async Task An_admin_compares_a_policy_with_the_what_if_saves_it_into_force_and_restores_the_previous_one()
    {
        await using var context = await browser.NewContextAsync(console.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInThroughProviderAsync(page, "ada", "/settings/dunning");
        await WaitUntilInteractiveAsync(page);
        await Expect(page.GetByTestId("policy-in-force")).ToContainTextAsync("in force");
        var before = await NewestAsync();

        // Invalid: a zero-day retry and no reason. Field messages, nothing saved.
        await page.GetByText("Fixed days", new() { Exact = true }).ClickAsync();
        await FillAsync(page, "policy-intervals", "0, 3");
        await FillAsync(page, "policy-budget", "16");
        await FillAsync(page, "ladder-day-0", "0");
        await page.GetByTestId("save-policy").ClickAsync();
        await Expect(page.GetByText("Retry intervals must be whole days greater than zero.")).ToBeVisibleAsync();
        await Expect(page.GetByText("The attempt budget must be between 1 and 15", new() { Exact = false })).ToBeVisibleAsync();
        await Expect(page.GetByText("Give a reason: it goes in the audit log.")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("ladder-error")).ToContainTextAsync("Escalation days must be greater than zero.");
        await BrowserFixture.ScreenshotAsync(page, "dunning-policy-invalid");
        Assert.Equal(before.Version, (await NewestAsync()).Version);

        // Valid: the first escalation step removed, the next one a day earlier; the what-if first, then save.
        Assert.True(before.Settings.Ladder.Count >= 2, "the policy in force has a step before its final action");
        var ladder = before.Settings.Ladder.Skip(1).Select((step, i) => i == 0 ? step with { Day = step.Day - 1 } : step).ToList();
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove step" }).First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Remove step" })).ToHaveCountAsync(ladder.Count);
        await FillAsync(page, "ladder-day-0", ladder[0].Day.ToString(CultureInfo.InvariantCulture));
        await FillAsync(page, "policy-intervals", "1, 2, 4, 8");
        await FillAsync(page, "policy-budget", "4");
        await page.GetByTestId("run-what-if").ClickAsync();
        // The replay covers every failure of the last 90 days in the shared database, which the suite's other tests grow, on
        // two cores they share: beside the whole suite it has taken longer than a minute (the page showed its progress).
        await Expect(page.GetByTestId("what-if-result")).ToBeVisibleAsync(new() { Timeout = 180_000 });
        await Expect(page.GetByTestId("what-if-rate")).ToContainTextAsync("%");
        await Expect(page.GetByTestId("what-if-chart").Locator("svg").First).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "dunning-policy-what-if");
        await FillAsync(page, "policy-reason", "Shorter fixed schedule after the what-if");
        await page.GetByTestId("save-policy").ClickAsync();
        await page.GetByTestId("confirm-save-policy").ClickAsync();

        await Expect(page.GetByTestId("policy-in-force")).ToContainTextAsync($"Version {before.Version + 1} in force", new() { Timeout = 60_000 });
        var saved = await NewestAsync();
        Assert.Equal((RetryMode.Fixed, 4), (saved.Settings.Mode, saved.Settings.AttemptBudget));
        Assert.Equal([1, 2, 4, 8], saved.Settings.FixedIntervalsDays);
        Assert.Equal(ladder, saved.Settings.Ladder);
        Assert.Equal(TestIdentityProvider.Users["ada"].Name, saved.CreatedBy);
        await using (var db = TestDatabases.NewContext(TestServers.DefaultConnectionString))
        {
            // In force: every case waiting for a retry was rescheduled by the new version.
            Assert.False(await db.DunningCases.AnyAsync(c => c.Status == DunningStatus.RetryPending && c.PolicyVersion < saved.Version, Ct));
        }
        await OpenAsync(page, "/audit?action=dunning_policy.saved");
        await Expect(page.GetByText("Shorter fixed schedule after the what-if")).ToBeVisibleAsync();

        // One click (and a reason) puts the previous version back, as a new version.
        await OpenAsync(page, "/settings/dunning");
        await FillAsync(page, "restore-reason", "Back to the previous policy after the test");
        await page.GetByTestId($"restore-{before.Version}").ClickAsync();
        await Expect(page.GetByTestId("policy-in-force")).ToContainTextAsync($"Version {before.Version + 2} in force", new() { Timeout = 60_000 });
        await BrowserFixture.ScreenshotAsync(page, "dunning-policy-restored");
        Assert.Equal(before.Settings.Mode, (await NewestAsync()).Settings.Mode);
    }
}
