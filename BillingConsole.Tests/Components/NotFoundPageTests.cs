using System.Net;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Components;

/// <summary>An address or id that names nothing answers 404 with a console page that says what was not found and a way back.</summary>
public sealed class NotFoundPageTests(ConsoleAppHost host)
{
    [Theory]
    [InlineData("/no-such-page", "Page not found", "/")]
    [InlineData("/customers/not-a-guid", "Page not found", "/")]
    [InlineData("/customers/{id}", "Customer not found", "/customers")]
    [InlineData("/invoices/{id}", "Invoice not found", "/invoices")]
    [InlineData("/subscriptions/{id}", "Subscription not found", "/subscriptions")]
    [InlineData("/dunning/{id}", "Dunning case not found", "/dunning")]
    [InlineData("/billing-runs/{id}", "Billing run not found", "/billing-runs")]
    public async Task An_unknown_address_or_id_answers_404_with_a_page_and_a_way_back(string path, string title, string back)
    {
        var ct = TestContext.Current.CancellationToken;
        using var admin = await host.SignedInClientAsync("admin");

        using var response = await admin.GetAsync(path.Replace("{id}", Guid.NewGuid().ToString()), ct);
        var html = await response.Content.ReadAsStringAsync(ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($">{title}</h1>", html);
        Assert.Contains($"href=\"{back}\"", html);
        Assert.Contains("data-testid=\"current-user\"", html);
    }

    [Fact]
    public async Task An_anonymous_visitor_to_an_unknown_address_is_sent_to_sign_in()
    {
        using var anonymous = host.CreateClient();
        using var response = await anonymous.GetAsync("/no-such-page", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login", response.Headers.Location!.PathAndQuery);
    }
}
