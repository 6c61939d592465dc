using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

[CollectionDefinition(DisableParallelization = true)]
public sealed class GatewayOutage;

/// <summary>Opens the shared console's gateway circuit breaker, which pauses its charging, so it runs alone.</summary>
[Collection(typeof(GatewayOutage))]
public sealed class GatewayBreakerPageTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Fact]
    public async Task The_operations_page_shows_an_open_breaker_and_an_admin_closes_it_with_a_reason()
    {
        var breaker = host.Services.GetRequiredService<GatewayCircuitBreaker>();
        var faults = breaker.Rules.FailureThreshold;
        try
        {
            for (var i = 0; i < faults; i++)
                await breaker.RecordAsync(ChargePermission.Granted, GatewayChargeResult.Unknown(TimeSpan.FromSeconds(10)), TestContext.Current.CancellationToken);
            var open = await breaker.ReadAsync(TestContext.Current.CancellationToken);
            Assert.Equal(CircuitState.Open, open.State);

            await using var context = await browser.NewContextAsync(host.BaseAddress);
            var page = await context.NewPageAsync();
            await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Breaker admin", "/operations");

            await Expect(page.GetByTestId("breaker-state")).ToHaveTextAsync("open");
            await Expect(page.GetByTestId("breaker-failures")).ToContainTextAsync($"{faults} · last: ERR_GATEWAY_TIMEOUT");
            await Expect(page.GetByTestId("breaker-retry")).ToHaveTextAsync(open.RetryAt!.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") + " UTC");
            await BrowserFixture.ScreenshotAsync(page, "operations-breaker-open");

            await page.GetByTestId("breaker-close").ClickAsync();
            var dialog = page.Locator(".mud-dialog");
            await Expect(dialog).ToContainTextAsync("Close the circuit breaker");
            await dialog.Locator("textarea").FillAsync("Gateway status page reports the incident resolved");
            await dialog.GetByTestId("reason-confirm").ClickAsync();

            await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("The circuit breaker is closed: charging resumes now.");
            await Expect(page.GetByTestId("breaker-state")).ToHaveTextAsync("closed");
            await Expect(page.GetByTestId("breaker-failures")).ToHaveTextAsync("0");
            await Expect(page.GetByTestId("breaker-close")).ToHaveCountAsync(0);
            await BrowserFixture.ScreenshotAsync(page, "operations-breaker-closed");
            await using var connection = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(TestContext.Current.CancellationToken);
            var audited = await connection.QuerySingleAsync<(string Actor, string Reason)>(
                "select actor, reason from audit_log where action = 'gateway.circuit_closed' order by occurred_at desc limit 1");
            Assert.Equal(("Breaker admin", "Gateway status page reports the incident resolved"), audited);
        }
        finally
        {
            if ((await breaker.ReadAsync(CancellationToken.None)).State != CircuitState.Closed)
                await breaker.CloseByHandAsync(new("test-teardown", "admin"), "Test over", CancellationToken.None);
        }
    }
}
