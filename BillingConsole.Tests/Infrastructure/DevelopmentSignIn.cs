using System.Net;
using System.Text.RegularExpressions;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>Signs an HTTP client in through the development sign-in form, as a browser would: antiforgery token, form post, cookie.</summary>
public static partial class DevelopmentSignIn
{
    public static async Task<HttpClient> SignedInClientAsync(this ConsoleAppHost host, string role, string name = "Test user")
    {
        var client = host.CreateClient();
        var form = await client.GetStringAsync("/account/dev-sign-in", TestContext.Current.CancellationToken);
        var token = AntiforgeryToken().Match(form) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups["token"].Value)
            : throw new InvalidOperationException("The development sign-in form has no antiforgery token.");
        using var response = await client.PostAsync("/account/dev-sign-in", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Role"] = role,
            ["Name"] = name,
            ["ReturnUrl"] = "/",
            ["__RequestVerificationToken"] = token,
        }), TestContext.Current.CancellationToken);
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString != "/")
            throw new InvalidOperationException($"Development sign-in as {role} answered {(int)response.StatusCode} {response.Headers.Location}.");
        return client;
    }

    // Blazor's <AntiforgeryToken /> renders the name before the value.
    [GeneratedRegex("""<input[^>]*name="__RequestVerificationToken"[^>]*value="(?<token>[^"]+)""")]
    private static partial Regex AntiforgeryToken();
}
