using Microsoft.Playwright;

namespace BillingConsole.Tests.Browser;

/// <summary>Filling in the admin pages' MudBlazor fields, found by their test ids.</summary>
internal static class AdminPages
{
    /// <summary>The input of a text or numeric field (MudBlazor puts the test id on the input or on its wrapper).</summary>
    public static ILocator Input(IPage page, string testId) =>
        page.Locator($"input[data-testid={testId}], [data-testid={testId}] input").First;

    /// <summary>Waits until the page is interactive (the circuit is up), so that clicks and typing reach the server.</summary>
    public static Task WaitUntilInteractiveAsync(IPage page) => Assertions.Expect(page.GetByTestId("circuit-up")).ToBeAttachedAsync();

    /// <summary>Opens a console page and waits until it is interactive.</summary>
    public static async Task OpenAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await WaitUntilInteractiveAsync(page);
    }

    public static Task FillAsync(IPage page, string testId, string value) => Input(page, testId).FillAsync(value);
}
