using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Engine.PayPage;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>The customer on a phone (390 px wide) opens the link from their message, gives a sandbox card and pays.</summary>
public sealed class PayPageBrowserTests(ConsoleAppHost host, BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task On_a_phone_the_customer_enters_a_sandbox_card_and_the_invoice_is_paid()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services);
        Guid? card;
        await using (var db = TestDatabases.NewContext(TestServers.DefaultConnectionString))
            card = await db.PaymentMethods.Where(p => p.CustomerId == failed.CustomerId && p.IsDefault).Select(p => (Guid?)p.Id).SingleAsync(Ct);
        var token = host.Services.GetRequiredService<PayLinks>().TokenFor(failed.CustomerId, card);

        await using var context = await browser.NewContextAsync(host.BaseAddress);
        await context.AddInitScriptAsync("""
            window.__violations = [];
            document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
            """);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(390, 844);
        await page.GotoAsync($"/pay/{token}");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Update your payment method" })).ToBeVisibleAsync();
        await Expect(page.GetByText("$20.00").First).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "The page scrolls sideways at 390 px.");
        await BrowserFixture.ScreenshotAsync(page, "pay-page-390");

        await page.GetByLabel("Sandbox card token").FillAsync("pm_ok_");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save the card and pay $20.00" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Thank you" })).ToBeVisibleAsync();
        await Expect(page.GetByText("The invoice was paid.")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "pay-page-390-paid");
        Assert.Empty(await page.EvaluateAsync<string[]>("window.__violations"));

        await using var after = TestDatabases.NewContext(TestServers.DefaultConnectionString);
        Assert.Equal(InvoiceStatus.Paid, await after.Invoices.Where(i => i.Id == failed.InvoiceId).Select(i => i.Status).SingleAsync(Ct));
        Assert.Equal(DunningStatus.Recovered, await after.DunningCases.Where(c => c.Id == failed.CaseId).Select(c => c.Status).SingleAsync(Ct));
    }

    [Fact]
    public async Task Support_attaches_a_sandbox_card_on_the_customer_page_and_the_waiting_invoice_is_paid_at_once()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services);
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Sandy Support", $"/customers/{failed.CustomerId}");

        await page.GetByLabel("Sandbox card token").FillAsync("pm_ok_4242");
        await page.GetByTestId("attach-sandbox-card").ClickAsync();
        await page.Locator(".mud-dialog textarea").FillAsync("Customer read out a new card on the phone");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();

        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("is the default payment method. The payment succeeded: the invoice is paid.");
        await BrowserFixture.ScreenshotAsync(page, "customer-sandbox-card");
        await using var after = TestDatabases.NewContext(TestServers.DefaultConnectionString);
        Assert.Equal(InvoiceStatus.Paid, await after.Invoices.Where(i => i.Id == failed.InvoiceId).Select(i => i.Status).SingleAsync(Ct));
        Assert.True(await after.AuditLog.AnyAsync(a => a.Action == "payment_method.attached" && a.EntityId == failed.CustomerId.ToString()
            && a.ActorRole == "support" && a.Reason == "Customer read out a new card on the phone", Ct));
    }
}
