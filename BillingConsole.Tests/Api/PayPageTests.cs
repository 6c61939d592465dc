using System.Net;
using System.Text.RegularExpressions;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Engine.PayPage;
using BillingConsole.Extensions;
using BillingConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Api;

/// <summary>
/// The customer's pay page over real HTTP on the shared host: the page, its form (antiforgery included), and the clear
/// pages a bad link, a bad card or a missing form token get, each changing nothing.
/// </summary>
public sealed partial class PayPageTests(ConsoleAppHost host)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(FailedInvoice Failed, string Token)> LinkForFailedInvoiceAsync()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services);
        await using var db = TestDatabases.NewContext(TestServers.DefaultConnectionString);
        var card = await db.PaymentMethods.Where(p => p.CustomerId == failed.CustomerId && p.IsDefault).Select(p => (Guid?)p.Id).SingleAsync(Ct);
        return (failed, host.Services.GetRequiredService<PayLinks>().TokenFor(failed.CustomerId, card));
    }

    private static async Task<(InvoiceStatus Status, int Cards)> StateAsync(FailedInvoice failed)
    {
        await using var db = TestDatabases.NewContext(TestServers.DefaultConnectionString);
        return (await db.Invoices.Where(i => i.Id == failed.InvoiceId).Select(i => i.Status).SingleAsync(Ct),
            await db.PaymentMethods.CountAsync(p => p.CustomerId == failed.CustomerId, Ct));
    }

    private static FormUrlEncodedContent Form(string html, string card)
    {
        var antiforgery = AntiforgeryInput().Match(html);
        Assert.True(antiforgery.Success, "The form carries an antiforgery token.");
        return new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [WebUtility.HtmlDecode(antiforgery.Groups["name"].Value)] = WebUtility.HtmlDecode(antiforgery.Groups["value"].Value),
            ["card"] = card,
        });
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]+)\">")]
    private static partial Regex AntiforgeryInput();

    [GeneratedRegex("'nonce-([^']+)'")]
    private static partial Regex Nonce();

    [Fact]
    public async Task The_customer_sees_what_is_due_gives_a_card_and_the_invoice_is_paid_once()
    {
        var (failed, token) = await LinkForFailedInvoiceAsync();
        using var client = host.CreateClient();

        var page = await client.GetAsync($"/pay/{token}", Ct);
        var html = await page.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        // Sandbox mode: the console's own policy, which allows no script from Stripe or anyone else.
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Equal(SecurityHeaders.ConsolePolicy(Nonce().Match(policy).Groups[1].Value), policy);
        Assert.Equal("no-store", page.Headers.CacheControl?.ToString());
        Assert.Contains("BillingConsole Demo Ltd", html);
        Assert.Contains("$20.00", html);
        Assert.Contains("pm_ok_", html);
        Assert.DoesNotContain("<script", html);

        var paid = await client.PostAsync($"/pay/{token}", Form(html, "pm_ok_"), Ct);
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Contains("The invoice was paid.", await paid.Content.ReadAsStringAsync(Ct));
        Assert.Equal((InvoiceStatus.Paid, 3), await StateAsync(failed));

        var again = await client.PostAsync($"/pay/{token}", Form(html, "pm_ok_"), Ct);
        Assert.Equal(HttpStatusCode.Gone, again.StatusCode);
        Assert.Contains("This link was already used", await again.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.Gone, (await client.GetAsync($"/pay/{token}", Ct)).StatusCode);
        Assert.Equal((InvoiceStatus.Paid, 3), await StateAsync(failed));
    }

    [Fact]
    public async Task A_declined_card_says_so_and_offers_a_fresh_link_for_another()
    {
        var (failed, token) = await LinkForFailedInvoiceAsync();
        using var client = host.CreateClient();
        var html = await client.GetStringAsync($"/pay/{token}", Ct);

        var declined = await client.PostAsync($"/pay/{token}", Form(html, "pm_insufficient_funds_"), Ct);
        var outcome = await declined.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, declined.StatusCode);
        Assert.Contains("The card was declined: Your card has insufficient funds.", outcome);
        var next = Regex.Match(outcome, "href=\"/pay/(?<token>[^\"]+)\">Try another card").Groups["token"].Value;

        var retry = await client.GetStringAsync($"/pay/{WebUtility.HtmlDecode(next)}", Ct);
        var paid = await client.PostAsync($"/pay/{WebUtility.HtmlDecode(next)}", Form(retry, "pm_ok_"), Ct);
        Assert.Contains("The invoice was paid.", await paid.Content.ReadAsStringAsync(Ct));
        Assert.Equal(InvoiceStatus.Paid, (await StateAsync(failed)).Status);
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("CfDJ8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task A_forged_link_gets_a_clear_page_not_an_error(string token)
    {
        using var client = host.CreateClient();
        var page = await client.GetAsync($"/pay/{token}", Ct);
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Contains("This link is not valid", await page.Content.ReadAsStringAsync(Ct));

        var post = await client.PostAsync($"/pay/{token}", new FormUrlEncodedContent(new Dictionary<string, string> { ["card"] = "pm_ok_" }), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
    }

    [Fact]
    public async Task A_form_without_its_antiforgery_token_or_with_a_bad_card_changes_nothing()
    {
        var (failed, token) = await LinkForFailedInvoiceAsync();
        using var client = host.CreateClient();
        var html = await client.GetStringAsync($"/pay/{token}", Ct);

        var forged = await client.PostAsync($"/pay/{token}", new FormUrlEncodedContent(new Dictionary<string, string> { ["card"] = "pm_ok_" }), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("The form has expired", await forged.Content.ReadAsStringAsync(Ct));

        var badCard = await client.PostAsync($"/pay/{token}", Form(html, "4242 4242 4242 4242"), Ct);
        var answer = await badCard.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badCard.StatusCode);
        Assert.Contains("A sandbox card token starts with the outcome it gets", answer);
        Assert.Contains("role=\"alert\"", answer);
        Assert.Equal((InvoiceStatus.Open, 2), await StateAsync(failed));
    }

    [Fact]
    public async Task The_page_is_rate_limited_per_address_with_a_page_saying_when_to_come_back()
    {
        var node = InMemoryNode.Create(new Dictionary<string, string> { ["RateLimits:PayPagePerAddress"] = "2", ["RateLimits:WindowSeconds"] = "60" });
        try
        {
            using var client = node.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
            var answers = new List<HttpStatusCode>();
            HttpResponseMessage last = null!;
            for (var i = 0; i < 3; i++)
            {
                last = await client.GetAsync("/pay/not-a-token", Ct);
                answers.Add(last.StatusCode);
            }
            Assert.Equal([HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests], answers);
            Assert.Contains("Too many attempts", await last.Content.ReadAsStringAsync(Ct));
            Assert.InRange(last.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        }
        finally
        {
            await InMemoryNode.DisposeAsync(node, host);
        }
    }
}
