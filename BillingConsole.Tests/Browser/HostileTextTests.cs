using BillingConsole.Tests.Api;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>Markup that arrived through the API is shown as the text it is, on the list and on the customer's page, and never runs.</summary>
public sealed class HostileTextTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Fact]
    public async Task Markup_stored_through_the_API_is_shown_escaped_and_never_runs()
    {
        var api = await ApiTestClient.CreateAsync(host, nameof(HostileTextTests));
        var body = System.Text.Json.JsonSerializer.SerializeToNode(api.NewCustomer(), ApiTestClient.Json)!.AsObject();
        body["name"] = HostileInputTests.Markup;
        var customer = await api.ReadAsync<BillingConsole.Engine.Commands.CustomerView>(
            await api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", ApiTestClient.JsonBody(body), Guid.NewGuid()), System.Net.HttpStatusCode.Created);
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        var dialogs = 0;
        page.Dialog += async (_, dialog) => { dialogs++; await dialog.DismissAsync(); };

        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Hostile support", $"/customers/{customer.Id}");
        await Expect(page.GetByTestId("customer-name")).ToHaveTextAsync(HostileInputTests.Markup);
        await page.GotoAsync($"/customers?search={Uri.EscapeDataString("window.__owned")}");
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = HostileInputTests.Markup }).First).ToBeVisibleAsync();

        Assert.Equal("undefined", await page.EvaluateAsync<string>("typeof window.__owned"));
        Assert.Equal(0, await page.Locator("[data-testid=customer-grid] img").CountAsync());
        Assert.Equal(0, dialogs);
    }
}
