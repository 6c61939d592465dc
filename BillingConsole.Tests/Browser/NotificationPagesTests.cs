using BillingConsole.Engine.Notifications;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static BillingConsole.Tests.Browser.AdminPages;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>The emails in the console: an admin edits a template with its live preview; support sees a customer's emails and sends them again.</summary>
public sealed class NotificationPagesTests(ConsoleAppHost host, BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<int> SavedVersionsAsync(string kind)
    {
        await using var db = TestDatabases.NewContext(TestServers.DefaultConnectionString);
        return await db.NotificationTemplates.CountAsync(t => t.Kind == kind, Ct);
    }

    [Fact]
    public async Task An_admin_cannot_save_a_template_that_does_not_render_and_sees_where_then_saves_a_good_one_and_restores_the_shipped_one()
    {
        const string kind = NotificationKinds.PaymentReceived;
        var before = await SavedVersionsAsync(kind);
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Ada Admin", "/settings/notifications");
        await WaitUntilInteractiveAsync(page);
        await ConsolePages.PickAsync(page, page.GetByTestId("template-kind"), NotificationKinds.Title(kind));
        await Expect(page.GetByTestId("preview-subject")).ToContainTextAsync("Receipt:");
        await Expect(page.FrameLocator("[data-testid=preview-html]").GetByRole(AriaRole.Heading, new() { Name = "Thank you for your payment" })).ToBeVisibleAsync();

        await FillAsync(page, "template-subject", "Receipt for {{ amount_payed }}");
        await Expect(page.GetByTestId("preview-unavailable")).ToContainTextAsync("amount_payed");
        await Expect(page.GetByText("amount_payed", new() { Exact = false }).First).ToBeVisibleAsync();
        await FillAsync(page, "template-reason", "Shorter subject");
        await page.GetByTestId("save-template").ClickAsync();
        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("Not saved");
        await BrowserFixture.ScreenshotAsync(page, "notification-template-invalid");
        Assert.Equal(before, await SavedVersionsAsync(kind));

        await FillAsync(page, "template-subject", "Thanks! {{ amount_paid }} received");
        await Expect(page.GetByTestId("preview-subject")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"Thanks! \S+ received"));
        await page.GetByTestId("save-template").ClickAsync();
        await Expect(page.GetByTestId("template-in-force")).ToContainTextAsync($"Version {before + 1} in force");
        await BrowserFixture.ScreenshotAsync(page, "notification-template-saved");
        Assert.Equal(before + 1, await SavedVersionsAsync(kind));

        await FillAsync(page, "template-restore-reason", "Back to the shipped wording");
        await page.GetByTestId("restore-template-0").ClickAsync();
        await Expect(page.GetByTestId("template-in-force")).ToContainTextAsync($"Version {before + 2} in force");
        await Expect(Input(page, "template-subject")).ToHaveValueAsync(NotificationTemplates.Default(kind).Subject);
    }

    [Fact]
    public async Task Support_sees_the_customers_emails_on_the_case_and_customer_pages_resends_one_and_sends_the_card_update_link()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services);
        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Dana Support", $"/dunning/{failed.CaseId}");
        await WaitUntilInteractiveAsync(page);
        var rows = page.GetByTestId("notifications").GetByTestId("notification-row");
        await Expect(rows.Filter(new() { HasText = "Payment failed" })).ToHaveCountAsync(1);

        await rows.Filter(new() { HasText = "Payment failed" }).GetByTestId("resend-notification").ClickAsync();
        await page.Locator(".mud-dialog textarea").FillAsync("Customer cannot find the email");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();
        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("queued to be sent again");
        await Expect(rows.Filter(new() { HasText = "Payment failed" })).ToHaveCountAsync(2);
        await BrowserFixture.ScreenshotAsync(page, "dunning-case-notifications");

        await OpenAsync(page, $"/customers/{failed.CustomerId}");
        await page.GetByTestId("send-card-update-link").ClickAsync();
        await page.Locator(".mud-dialog textarea").FillAsync("Customer's bank issued a new card");
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();
        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("card-update link is queued");
        await Expect(page.GetByTestId("notifications").Locator($"[data-kind={NotificationKinds.CardUpdateLink}]")).ToHaveCountAsync(1);
        await BrowserFixture.ScreenshotAsync(page, "customer-notifications");
        await using var db = TestDatabases.NewContext(TestServers.DefaultConnectionString);
        Assert.Equal(2, await db.AuditLog.CountAsync(a => a.Actor == "Dana Support"
            && (a.Action == "notification.resent" || a.Action == "notification.card_update_link") && a.EntityId == failed.CustomerId.ToString(), Ct));
    }
}
