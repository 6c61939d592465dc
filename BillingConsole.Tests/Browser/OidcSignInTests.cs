using BillingConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

[Collection(OidcCollection.Name)]
public sealed class OidcSignInTests(OidcConsoleHost console, BrowserFixture browser)
{
    [Theory]
    [InlineData("fiona", "finance")]
    [InlineData("sam", "support")]
    [InlineData("ada", "admin")]
    public async Task A_provider_user_signs_in_with_code_and_PKCE_and_gets_the_mapped_role(string username, string role)
    {
        await using var context = await browser.NewContextAsync(console.BaseAddress);
        var page = await context.NewPageAsync();

        await ConsolePages.SignInThroughProviderAsync(page, username);

        await Expect(page.GetByTestId("current-role")).ToHaveTextAsync(role);
        await Expect(page.GetByTestId("current-user")).ToHaveTextAsync(TestIdentityProvider.Users[username].Name);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Signing_in_leaves_no_client_secret_code_or_token_in_the_logs()
    {
        await using var context = await browser.NewContextAsync(console.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInThroughProviderAsync(page, "fiona");
        await Expect(page.GetByTestId("current-role")).ToHaveTextAsync("finance");

        var output = console.Output;
        Assert.Contains("Microsoft.AspNetCore.Authentication", output);
        Assert.DoesNotContain(TestIdentityProvider.ClientSecret, output);
        Assert.DoesNotMatch(@"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", output);
        Assert.DoesNotMatch(@"Bearer\s+\S", output);
        Assert.DoesNotMatch(@"[?&]code=[A-Za-z0-9_-]{8,}", output);
        Assert.DoesNotMatch(@"(access|id|refresh)_token""?\s*[:=]\s*""?[A-Za-z0-9_-]{8,}", output);
    }

    [Fact]
    public async Task A_provider_user_without_a_mapped_role_is_refused()
    {
        await using var context = await browser.NewContextAsync(console.BaseAddress);
        var page = await context.NewPageAsync();

        await page.GotoAsync("/");
        await page.FillAsync("#username", "nobody");
        await page.ClickAsync("#sign-in");
        await ConsolePages.WaitUntilAwayFromAsync(page, "/connect/");
        await BrowserFixture.ScreenshotAsync(page, "oidc-no-role");

        await Expect(page.GetByText("Your role does not allow this page")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("figure-mrr")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task The_development_sign_in_does_not_exist_when_a_provider_is_configured()
    {
        await using var context = await browser.NewContextAsync(console.BaseAddress);
        var response = await context.APIRequest.PostAsync("/account/dev-sign-in", new() { Form = context.APIRequest.CreateFormData().Set("Role", "admin"), MaxRedirects = 0 });

        Assert.True(response.Status is 400 or 404, $"Expected the development sign-in to be refused, got {response.Status}");
    }
}
