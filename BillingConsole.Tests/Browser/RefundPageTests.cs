using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Tests.Infrastructure;
using BillingConsole.Tests.Pdf;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>A support agent refunds part of a payment from the invoice page and opens the credit note it issued.</summary>
public sealed class RefundPageTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Fact]
    public async Task Support_refunds_part_of_a_payment_and_the_credit_note_pdf_opens()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services, name: "Refund Browser Customer");
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var paid = await scope.ServiceProvider.GetRequiredService<PaymentProcessor>()
                .ChargeAsync(failed.InvoiceId, PaymentTrigger.Manual, Actor.System, TestContext.Current.CancellationToken);
            Assert.Equal(ChargeStatus.Succeeded, paid.Status);
        }
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Dana Support", $"/invoices/{failed.InvoiceId}");
        await AdminPages.WaitUntilInteractiveAsync(page);

        await AdminPages.FillAsync(page, "credit-amount", "7.50");
        await ConsolePages.PickAsync(page, page.GetByTestId("credit-reason").Locator(".mud-select").First, "product unsatisfactory");
        await AdminPages.FillAsync(page, "credit-description", "Two seats were never used");
        await page.GetByTestId("refund-payment").ClickAsync();
        await Expect(page.Locator(".mud-dialog")).ToContainTextAsync("Returns $7.50 to the customer's card");
        await page.Locator(".mud-dialog textarea").FillAsync("Customer never used two seats");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();

        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("Refunded $7.50; credit note CN-");
        await Expect(page.GetByTestId("refunds")).ToContainTextAsync("succeeded");
        var link = page.GetByTestId("credit-notes").GetByTestId("credit-note-pdf");
        await Expect(link).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^CN-[0-9]{6}$"));
        await BrowserFixture.ScreenshotAsync(page, "invoice-refunded");
        var number = await link.TextContentAsync();

        var response = await context.APIRequest.GetAsync((await link.GetAttributeAsync("href"))!);
        Assert.Equal(200, response.Status);
        Assert.Equal("application/pdf", response.Headers["content-type"]);
        var pdf = RenderedPdf.Read(await response.BodyAsync());
        InvoiceDocumentTests.Shows(pdf, "CREDIT NOTE", $"Credit note{number}", "ReasonProduct unsatisfactory", "Refund Browser Customer",
            "Total credited$7.50", "Two seats were never used");

        await page.GotoAsync($"/customers/{failed.CustomerId}");
        await Expect(page.GetByTestId("credit-notes")).ToContainTextAsync(number!);
    }
}
