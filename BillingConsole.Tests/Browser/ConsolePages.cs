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
        // Interactive: the circuit is up when the layout shows who is signed in.
        await Assertions.Expect(page.GetByTestId("current-user")).ToHaveTextAsync(name);
    }

    /// <summary>OpenID Connect sign-in: the console redirects to the provider, the user signs in there and comes back.</summary>
    public static async Task SignInThroughProviderAsync(IPage page, string username, string path = "/")
    {
        await page.GotoAsync(path);
        await page.FillAsync("#username", username);
        await page.ClickAsync("#sign-in");
        await page.WaitForURLAsync(url => !url.Contains("/connect/"));
        await Assertions.Expect(page.GetByTestId("current-user")).ToBeVisibleAsync();
    }
}
