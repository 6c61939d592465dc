using System.Net;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>The security headers, and the console and the Hangfire dashboard working under their Content-Security-Policy.</summary>
public sealed class ContentSecurityPolicyTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Fact]
    public async Task Every_response_carries_the_security_headers_and_each_page_its_own_nonce()
    {
        using var http = host.CreateClient();

        using var first = await http.GetAsync("/account/dev-sign-in", TestContext.Current.CancellationToken);
        using var second = await http.GetAsync("/account/dev-sign-in", TestContext.Current.CancellationToken);
        using var jobs = await http.GetAsync("/jobs", TestContext.Current.CancellationToken);
        using var api = await http.GetAsync("/api/v1/customers/00000000-0000-0000-0000-000000000001/invoices", TestContext.Current.CancellationToken);

        var policy = Header(first, "Content-Security-Policy");
        foreach (var directive in new[] { "default-src 'self'", "frame-ancestors 'none'", "style-src 'self' 'unsafe-inline'", "connect-src 'self' ws: wss:", "img-src 'self' data:", "object-src 'none'" })
            Assert.Contains(directive, policy);
        Assert.Matches(@"script-src 'self' 'nonce-[A-Za-z0-9+/=]{24}';", policy);
        Assert.DoesNotContain("unsafe-eval", policy);
        Assert.NotEqual(policy, Header(second, "Content-Security-Policy"));
        var nonce = System.Text.RegularExpressions.Regex.Match(policy, "'nonce-([^']+)'").Groups[1].Value;
        // The page writes the nonce HTML-encoded ('+' as &#x2B;), which the browser decodes before comparing it with the header.
        Assert.Contains($"nonce=\"{nonce}\"", WebUtility.HtmlDecode(await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)));
        Assert.Contains("script-src 'self' 'unsafe-inline'", Header(jobs, "Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", Header(jobs, "Content-Security-Policy"));
        foreach (var response in new[] { first, jobs, api })
        {
            Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
            Assert.Equal("strict-origin-when-cross-origin", Header(response, "Referrer-Policy"));
            Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        }
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task The_console_and_the_Hangfire_dashboard_run_without_a_single_policy_violation()
    {
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        // Both the browser's console report and the DOM event, so that no violation goes unseen.
        await context.AddInitScriptAsync("""
            window.__violations = [];
            document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
            """);
        var page = await context.NewPageAsync();
        var console = new List<string>();
        page.Console += (_, message) => { lock (console) console.Add($"{message.Type}: {message.Text}"); };
        page.PageError += (_, error) => { lock (console) console.Add($"pageerror: {error}"); };

        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "CSP admin", "/");
        await Expect(page.GetByTestId("figures-age")).ToBeVisibleAsync();
        var violations = await ViolationsAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Customers" }).First.ClickAsync();
        await page.WaitForURLAsync("**/customers");
        await Expect(page.Locator("[data-testid=customer-grid] tbody tr").Nth(3)).ToBeVisibleAsync();
        violations.AddRange(await ViolationsAsync(page));
        await BrowserFixture.ScreenshotAsync(page, "csp-customers");

        await page.GotoAsync("/jobs");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Recurring Jobs" })).ToBeVisibleAsync();
        // The dashboard's own script defines window.Hangfire: it is there only when the policy let it run.
        Assert.True(await page.EvaluateAsync<bool>("typeof window.Hangfire === 'object'"), "the Hangfire dashboard's scripts did not run");
        violations.AddRange(await ViolationsAsync(page));
        await BrowserFixture.ScreenshotAsync(page, "csp-jobs");

        string[] reported;
        lock (console) reported = [.. console.Where(m => m.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase) || m.StartsWith("pageerror"))];
        Assert.True(violations.Count == 0 && reported.Length == 0,
            "Violations: " + string.Join("; ", violations) + " | console: " + string.Join("; ", reported));
    }

    private static async Task<List<string>> ViolationsAsync(IPage page) => [.. await page.EvaluateAsync<string[]>("window.__violations")];

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : throw new Xunit.Sdk.XunitException($"{name} is missing on {response.RequestMessage?.RequestUri}");
}
