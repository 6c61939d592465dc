using System.Text.RegularExpressions;
using BillingConsole.Jobs;
using BillingConsole.Tests.Infrastructure;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// The Hangfire dashboard shows the jobs but cannot act on them: triggering, requeueing or deleting a billing, dunning or
/// collection job would move money without the reason and audit entry of the console's own actions.
/// </summary>
public sealed partial class JobsDashboardTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Fact]
    public async Task An_admin_cannot_trigger_the_billing_cycle_from_the_jobs_dashboard()
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Jobs admin");
        var storage = host.Services.GetRequiredService<JobStorage>();
        string? LastJobId()
        {
            using var connection = storage.GetConnection();
            return connection.GetRecurringJobs([RecurringJobRegistrar.BillingCycle]).Single().LastJobId;
        }
        var before = LastJobId();

        var recurring = await context.APIRequest.GetAsync("/jobs/recurring");
        var html = await recurring.TextAsync();
        Assert.Equal(200, recurring.Status);
        Assert.Contains(RecurringJobRegistrar.BillingCycle, html);
        Assert.DoesNotContain("recurring/trigger", html);

        // Sent as the dashboard's own button would send it, with its antiforgery token when the page carries one.
        var headers = new Dictionary<string, string> { ["Content-Type"] = "application/x-www-form-urlencoded" };
        if (AntiforgeryHeader().Match(html) is { Success: true } header && AntiforgeryToken().Match(html) is { Success: true } token)
            headers[header.Groups[1].Value] = token.Groups[1].Value;
        var trigger = await context.APIRequest.PostAsync("/jobs/recurring/trigger",
            new() { Headers = headers, DataString = "jobs%5B%5D=" + RecurringJobRegistrar.BillingCycle, MaxRedirects = 0 });

        Assert.InRange(trigger.Status, 400, 499);
        Assert.Equal(before, LastJobId());
        await page.GotoAsync("/jobs/recurring");
        await BrowserFixture.ScreenshotAsync(page, "jobs-dashboard-read-only");
    }

    [GeneratedRegex("<meta name=\"csrf-header\" content=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryHeader();

    [GeneratedRegex("<meta name=\"csrf-token\" content=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
