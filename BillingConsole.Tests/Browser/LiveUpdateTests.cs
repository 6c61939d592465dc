using BillingConsole.Engine.Commands;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>Open pages follow what others change, without the reader reloading them.</summary>
public sealed class LiveUpdateTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Fact]
    public async Task Open_invoice_and_dunning_case_pages_show_a_void_made_by_someone_else_without_a_reload()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services);
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var invoicePage = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(invoicePage, "finance", "Fay Finance", $"/invoices/{failed.InvoiceId}");
        var casePage = await context.NewPageAsync();
        await casePage.GotoAsync($"/dunning/{failed.CaseId}");
        var invoiceStatus = invoicePage.GetByTestId("invoice-status").Locator(".status-chip");
        var caseStatus = casePage.GetByTestId("case-status").Locator(".status-chip");
        await Expect(invoiceStatus).ToHaveAttributeAsync("data-status", "open");
        await Expect(caseStatus).ToHaveAttributeAsync("data-status", "retry_pending");
        // A reload would forget these marks.
        foreach (var page in new[] { invoicePage, casePage }) await page.EvaluateAsync("window.__stillThisPage = true");

        await using (var scope = host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<InvoiceCommands>()
                .VoidAsync(failed.InvoiceId, new Actor("Ada Admin", "admin"), "Billed in error", TestContext.Current.CancellationToken);
        }

        await Expect(invoiceStatus).ToHaveAttributeAsync("data-status", "void");
        await Expect(caseStatus).ToHaveAttributeAsync("data-status", "closed");
        await Expect(casePage.GetByTestId("case-invoice").Locator("..")).ToContainTextAsync("(void)");
        foreach (var page in new[] { invoicePage, casePage }) Assert.True(await page.EvaluateAsync<bool>("window.__stillThisPage === true"));
        await BrowserFixture.ScreenshotAsync(invoicePage, "live-invoice-voided");
        await BrowserFixture.ScreenshotAsync(casePage, "live-dunning-case-closed");
    }
}
