using Microsoft.Extensions.DependencyInjection;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Api;
using BillingConsole.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>Stops the run's Redis, so it runs in the outage collection, alone.</summary>
[Collection(typeof(RedisOutage))]
public sealed class OperationsPageTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Fact]
    public async Task The_operations_page_reads_PostgreSQL_Redis_and_Hangfire_and_notices_Redis_going_away()
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Ops admin", "/operations");

        await Expect(page.GetByTestId("postgres-summary")).ToContainTextAsync("connections");
        await Expect(page.GetByTestId("redis-status")).ToContainTextAsync("volatile-lru");
        await Expect(page.GetByTestId("redis-status")).ToContainTextAsync("on");
        await Expect(page.GetByTestId("hangfire-queues")).ToContainTextAsync("dunning_retry");
        // Redis capped, so that its eviction policy acts.
        await Expect(page.GetByTestId("redis-status")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"of \d+(\.\d+)?M"));
        var queue = await host.Services.GetRequiredService<DunningStatistics>().QueueAsync(TestContext.Current.CancellationToken);
        await Expect(page.GetByTestId("dunning-due-now")).ToHaveTextAsync(queue.DueNow.ToString("N0"));
        await Expect(page.GetByTestId("panel-dunning")).ToContainTextAsync("Open cases");
        await BrowserFixture.ScreenshotAsync(page, "operations");
        try
        {
            await TestServers.StopRedisAsync();

            await Expect(page.GetByTestId("redis-down")).ToBeVisibleAsync(new() { Timeout = 20_000 });
            await Expect(page.GetByTestId("postgres-summary")).ToContainTextAsync("connections");
        }
        finally
        {
            await TestServers.StartRedisAsync();
        }
        await Expect(page.GetByTestId("redis-status")).ToBeVisibleAsync(new() { Timeout = 30_000 });
    }

    [Theory]
    [InlineData("finance")]
    [InlineData("support")]
    public async Task Only_admins_open_the_operations_page(string role)
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, role, $"Ops {role}");

        await page.GotoAsync("/operations");

        await Expect(page.GetByTestId("access-denied")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("panel-postgres")).ToHaveCountAsync(0);
    }
}
