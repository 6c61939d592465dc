using BillingConsole.Domain.Invoicing;
using BillingConsole.Tests.Infrastructure;
using BillingConsole.Tests.Pdf;
using Microsoft.EntityFrameworkCore;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>A support agent signed in through the OIDC provider credits a customer's balance and creates a one-off invoice from the customer page.</summary>
[Collection(OidcCollection.Name)]
public sealed class CustomerMoneyPageTests(ConsoleAppHost host, OidcConsoleHost console, BrowserFixture browser)
{
    [Fact]
    public async Task Support_credits_the_balance_and_creates_a_one_off_invoice_sent_with_terms_from_the_customer_page()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services, name: "One-off Browser Customer");
        await using var context = await browser.NewContextAsync(console.BaseAddress);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(1440, 900);
        await ConsolePages.SignInThroughProviderAsync(page, "sam", $"/customers/{failed.CustomerId}");

        await AdminPages.FillAsync(page, "balance-amount", "12.50");
        await page.GetByTestId("adjust-balance").ClickAsync();
        await Expect(page.Locator(".mud-dialog")).ToContainTextAsync("Adds $12.50 to the customer's credit balance");
        await page.Locator(".mud-dialog textarea").FillAsync("Goodwill for the outage");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();
        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("Credited $12.50; the credit balance is now $12.50.");
        await Expect(page.GetByTestId("credit-balance")).ToContainTextAsync("$12.50");

        await AdminPages.FillAsync(page, "one-off-description", "Onboarding workshop");
        await AdminPages.FillAsync(page, "one-off-quantity", "2");
        await AdminPages.FillAsync(page, "one-off-unit-price", "60");
        await ConsolePages.PickAsync(page, page.GetByTestId("one-off-collection").Locator(".mud-select").First, "Send with terms");
        await AdminPages.FillAsync(page, "one-off-days-until-due", "10");
        await page.GetByTestId("create-one-off-invoice").ClickAsync();
        await Expect(page.Locator(".mud-dialog")).ToContainTextAsync("1 line(s), $120.00 before tax, sent to the customer, due in 10 days");
        await page.Locator(".mud-dialog textarea").FillAsync("Workshop agreed by email");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();
        await Expect(page.Locator(".mud-snackbar").Last).ToContainTextAsync("Sent to the customer, due");
        await BrowserFixture.ScreenshotAsync(page, "customer-money-1440");
        await page.SetViewportSizeAsync(390, 844);
        await BrowserFixture.ScreenshotAsync(page, "customer-money-390");
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "No horizontal scroll at 390 px.");

        await using var db = TestDatabases.NewContext(TestServers.DefaultConnectionString);
        var invoice = await db.Invoices.SingleAsync(i => i.CustomerId == failed.CustomerId && i.Kind == InvoiceKind.OneOff,
            TestContext.Current.CancellationToken);
        // The credit granted first is applied to the invoice.
        Assert.Equal((120m, 12.50m), (invoice.Subtotal.Amount, invoice.CreditApplied.Amount));
        var response = await context.APIRequest.GetAsync($"/invoices/{invoice.Id}/pdf");
        Assert.Equal("application/pdf", response.Headers["content-type"]);
        InvoiceDocumentTests.Shows(RenderedPdf.Read(await response.BodyAsync()), "Onboarding workshop", "One-off Browser Customer");
    }
}
