using System.Text.RegularExpressions;
using BillingConsole.Tests.Infrastructure;
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
        await WaitUntilAwayFromAsync(page, "/account/");
        await Assertions.Expect(page.GetByTestId("current-user")).ToHaveTextAsync(name);
        await AdminPages.WaitUntilInteractiveAsync(page);
    }

    /// <summary>
    /// Waits until a form post's redirects have left the pages under <paramref name="path"/>. The address is polled:
    /// <c>WaitForURLAsync</c> after a full navigation checks for the load event before it listens for it, and once missed
    /// the event that arrived in between it waits out its whole timeout.
    /// </summary>
    public static Task WaitUntilAwayFromAsync(IPage page, string path) =>
        Assertions.Expect(page).ToHaveURLAsync(new Regex($"^(?!.*{Regex.Escape(path)})"), new() { Timeout = 90_000 });

    /// <summary>
    /// Picks an option of a MudSelect and waits until the select shows it. A click that lands while the page is still settling
    /// (its first interactive render, a live update) can leave the list closed, or close it again before the pick reaches the
    /// server, so the select is opened and the option clicked again until the select shows the option.
    /// </summary>
    public static async Task PickAsync(IPage page, ILocator select, string option)
    {
        var item = page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = option });
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (!await item.IsVisibleAsync())
            {
                await select.ClickAsync();
                try { await item.WaitForAsync(new() { Timeout = 3000 }); }
                catch (TimeoutException) { continue; }
            }
            await item.ClickAsync();
            for (var wait = 0; wait < 30; wait++)
            {
                if (await ShowsAsync(select, option)) return;
                await Task.Delay(100);
            }
        }
        Assert.Fail($"The select never showed \"{option}\" after it was picked.");
    }

    /// <summary>
    /// A MudSelect shows its chosen option's text in its input, or the item's content where the item has one; the locator may
    /// point inside the select (a test id MudSelect hands to its input).
    /// </summary>
    private static Task<bool> ShowsAsync(ILocator select, string option) =>
        select.EvaluateAsync<bool>(
            """
            (el, option) => {
                const select = el.closest('.mud-select') ?? el;
                return select.innerText.includes(option) || [...select.querySelectorAll('input')].some(i => i.value.includes(option));
            }
            """, option);

    /// <summary>
    /// Clicks and waits for what the click does (<paramref name="outcome"/>, given the milliseconds it may wait). On a loaded
    /// machine a click is now and then not acted on while live updates redraw the page (seen on a list's Apply and on a
    /// suggestion); a person clicks again, and so does this, noting each lost click in the test's output with a screenshot.
    /// The last attempt's failure is the test's.
    /// </summary>
    public static async Task ClickUntilAsync(IPage page, ILocator target, Func<float, Task> outcome, string name)
    {
        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            // A click acted on late may have taken the target away (a suggestion list that closed): then it waits again.
            if (attempt == 1 || await target.IsVisibleAsync()) await target.ClickAsync();
            try
            {
                await outcome(attempt < attempts ? 15_000 : 60_000);
                return;
            }
            catch (Exception e) when (attempt < attempts && e is TimeoutException or PlaywrightException)
            {
                TestContext.Current.TestOutputHelper?.WriteLine($"Click {attempt} on {name} was not acted on within 15 s; clicking again. {e.Message}");
                await BrowserFixture.ScreenshotAsync(page, $"lost-click-{name}-{attempt}");
            }
        }
    }

    /// <summary>Applies a list's filters and waits for the address to carry them.</summary>
    public static Task ApplyFiltersAsync(IPage page, Regex address) =>
        ClickUntilAsync(page, page.GetByTestId("filter-apply"), timeout => Assertions.Expect(page).ToHaveURLAsync(address, new() { Timeout = timeout }), "filter-apply");

    /// <summary>OpenID Connect sign-in: the console redirects to the provider, the user signs in there and comes back.</summary>
    public static async Task SignInThroughProviderAsync(IPage page, string username, string path = "/")
    {
        await page.GotoAsync(path);
        await page.FillAsync("#username", username);
        await page.ClickAsync("#sign-in");
        await WaitUntilAwayFromAsync(page, "/connect/");
        await Assertions.Expect(page.GetByTestId("current-user")).ToBeVisibleAsync();
        await AdminPages.WaitUntilInteractiveAsync(page);
    }
}
