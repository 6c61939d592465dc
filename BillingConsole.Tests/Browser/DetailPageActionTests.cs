using System.Text.RegularExpressions;
using BillingConsole.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>The dunning case and subscription pages, driven by a support agent and looked at by finance.</summary>
public sealed class DetailPageActionTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Fact]
    public async Task Support_reads_a_dunning_case_from_the_queue_and_pauses_dunning_with_a_reason()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services);
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Dana Support", $"/dunning?search={Uri.EscapeDataString(failed.Email)}");

        await page.GetByTestId("dunning-grid").GetByTestId("dunning-case-link").ClickAsync();

        await page.WaitForURLAsync($"**/dunning/{failed.CaseId}");
        await Expect(page.GetByTestId("case-attempts")).ToContainTextAsync("insufficient_funds");
        await Expect(page.GetByTestId("next-retry-probability")).ToContainTextAsync(new Regex(@"Estimated recovery probability \d+ %|\d+%"));
        await Expect(page.GetByTestId("next-retry-reason")).ToContainTextAsync("insufficient_funds");
        // A case waiting for its retry is not stuck: no reset is offered.
        await Expect(page.GetByTestId("reset-case")).ToHaveCountAsync(0);
        await BrowserFixture.ScreenshotAsync(page, "dunning-case");
        await page.GetByTestId("pause-dunning").ClickAsync();
        await page.Locator(".mud-dialog textarea").FillAsync("Customer disputes the charge");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();

        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("Dunning is paused");
        await Expect(page.GetByTestId("dunning-paused")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("resume-dunning")).ToBeVisibleAsync();
        // Paused, the case plans no retry: no estimate is shown, and the queue says it is paused.
        await Expect(page.GetByTestId("next-retry-paused")).ToContainTextAsync("dunning is paused");
        await Expect(page.GetByTestId("next-retry-probability")).ToHaveCountAsync(0);
        await BrowserFixture.ScreenshotAsync(page, "dunning-case-paused");
        await page.GotoAsync($"/dunning?search={Uri.EscapeDataString(failed.Email)}");
        await Expect(page.GetByTestId("dunning-grid").GetByTestId("queue-paused")).ToBeVisibleAsync();
        await page.GotoAsync($"/invoices/{failed.InvoiceId}");
        await Expect(page.GetByTestId("dunning-case")).ToContainTextAsync("no retry while dunning is paused for this customer");
        await Expect(page.GetByTestId("dunning-case")).Not.ToContainTextAsync("estimated");
    }

    [Fact]
    public async Task Support_previews_a_plan_change_before_confirming_it()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services);
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Dana Support", $"/customers/{failed.CustomerId}");
        await page.GetByRole(Microsoft.Playwright.AriaRole.Link, new() { Name = "Starter 20 × 1" }).ClickAsync();
        await page.WaitForURLAsync($"**/subscriptions/{failed.SubscriptionId}");

        await Expect(page.GetByTestId("confirm-change")).ToBeDisabledAsync();
        await ConsolePages.PickAsync(page, page.GetByTestId("change-price").Locator(".mud-select").First, failed.UpgradePlanName);
        await page.GetByTestId("preview-change").ClickAsync();

        var preview = page.GetByTestId("change-preview");
        await Expect(preview).ToContainTextAsync("Upgrade");
        await Expect(preview.GetByTestId("preview-lines")).ToContainTextAsync(failed.UpgradePlanName);
        await page.GetByTestId("preview-next-invoice").ClickAsync();
        await Expect(page.GetByTestId("next-invoice").GetByTestId("preview-total")).ToContainTextAsync("$20.00");
        await BrowserFixture.ScreenshotAsync(page, "subscription-preview");
        await page.GetByTestId("confirm-change").ClickAsync();
        await page.Locator(".mud-dialog textarea").FillAsync("Customer asked for more seats");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();

        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("Plan changed");
        await Expect(page.GetByTestId("subscription-plan")).ToContainTextAsync(failed.UpgradePlanName);
        await Expect(page.GetByTestId("change-preview")).ToHaveCountAsync(0);
        await BrowserFixture.ScreenshotAsync(page, "subscription-changed");
    }

    [Fact]
    public async Task Support_has_a_customer_sent_invoices_from_the_customer_page_and_the_invoice_page_says_how_it_is_collected()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services);
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Dana Support", $"/customers/{failed.CustomerId}");
        await Expect(page.GetByTestId("collection-method")).ToContainTextAsync("charged automatically");

        await ConsolePages.PickAsync(page, page.GetByTestId("collection-method-select").Locator(".mud-select").First, "Send invoice");
        await page.GetByTestId("days-until-due").Locator("input").FillAsync("21");
        await page.GetByTestId("change-collection-method").ClickAsync();
        await page.Locator(".mud-dialog textarea").FillAsync("Customer pays by bank transfer");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();

        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("Invoices are now sent to the customer, due 21 days");
        await Expect(page.GetByTestId("collection-method")).ToContainTextAsync("due 21 days after they are issued");
        await BrowserFixture.ScreenshotAsync(page, "customer-collection-method");
        await page.GotoAsync($"/invoices/{failed.InvoiceId}");
        await Expect(page.GetByTestId("invoice-collection")).ToContainTextAsync("Charged once without success so far");
    }

    [Fact]
    public async Task Finance_sees_the_pages_without_any_action_buttons()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services);
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "finance", "Fay Finance", $"/invoices/{failed.InvoiceId}");

        await Expect(page.GetByTestId("invoice-pdf")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("retry-payment")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("void-invoice")).ToHaveCountAsync(0);
        await page.GotoAsync($"/dunning/{failed.CaseId}");
        await Expect(page.GetByTestId("case-attempts")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("retry-now")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("pause-dunning")).ToHaveCountAsync(0);
        await page.GotoAsync($"/subscriptions/{failed.SubscriptionId}");
        await Expect(page.GetByTestId("subscription-details")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("change-plan")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("cancel-now")).ToHaveCountAsync(0);
        await page.GotoAsync($"/customers/{failed.CustomerId}");
        await Expect(page.GetByTestId("customer-name")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("add-note")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("change-collection-method")).ToHaveCountAsync(0);
    }
}
