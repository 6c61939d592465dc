using Microsoft.Playwright;

namespace BillingConsole.Tests.Browser;

/// <summary>What a person does in the console, for browser tests to share.</summary>
public static class ConsolePages
{
    /// <summary>Development sign-in: open a page, get sent to sign-in, pick a role, land back on the page.</summary>
    public static async Task SignInAsDevelopmentUserAsync(IPage page, string role, string name, string path = "/")
    {
        await page.GotoAsync(path);
        await page.WaitForURLAsync("**/account/dev-sign-in**");
        await page.FillAsync("#dev-name", name);
        await page.ClickAsync($"[data-testid=sign-in-{role}]");
        await page.WaitForURLAsync(url => !url.Contains("/account/"));
        await Assertions.Expect(page.GetByTestId("current-user")).ToHaveTextAsync(name);
        await AdminPages.WaitUntilInteractiveAsync(page);
    }

    /// <summary>
    /// Picks an option of a MudSelect. A click that lands while the page is still settling (its first interactive render, a
    /// live update) can leave the list closed, so the select is clicked again until its list shows the option.
    /// </summary>
    public static async Task PickAsync(IPage page, ILocator select, string option)
    {
        var item = page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = option });
        for (var attempt = 0; attempt < 10 && !await item.IsVisibleAsync(); attempt++)
        {
            await select.ClickAsync();
            try { await item.WaitForAsync(new() { Timeout = 3000 }); }
            catch (TimeoutException) { }
        }
        await item.ClickAsync();
    }

    /// <summary>OpenID Connect sign-in: the console redirects to the provider, the user signs in there and comes back.</summary>
    public static async Task SignInThroughProviderAsync(IPage page, string username, string path = "/")
    {
        await page.GotoAsync(path);
        await page.FillAsync("#username", username);
        await page.ClickAsync("#sign-in");
        await page.WaitForURLAsync(url => !url.Contains("/connect/"));
        await Assertions.Expect(page.GetByTestId("current-user")).ToBeVisibleAsync();
        await AdminPages.WaitUntilInteractiveAsync(page);
    }
}
