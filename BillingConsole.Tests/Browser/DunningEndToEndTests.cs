using System.Net;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Jobs;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using MimeKit;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// Dunning from the customer's side, end to end: a console node of its own (database, engine clock, SMTP server), its jobs
/// run as Hangfire would run them while the clock moves day by day, the emails read at the SMTP server, and the customer's
/// pay page and the case page in chromium. A renewal declines; the customer is told, retried on the policy's days, reminded
/// on the notify step's day and blocked from plan changes on the block day; then they follow the link in the email, give a
/// new card, and the invoice is paid at once, the case recovered and the receipt sent.
/// </summary>
public sealed class DunningEndToEndTests(ConsoleAppHost host, BrowserFixture browser) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    private DunningNode _node = null!;
    private FakeTimeProvider _clock = null!;
    private MigratedDatabase _database = null!;
    private Uri _baseAddress = null!;

    public async ValueTask InitializeAsync()
    {
        _node = await DunningNode.StartAsync(host, "dunning_end_to_end");
        (_clock, _database, _baseAddress) = (_node.Clock, _node.Database, _node.BaseAddress);
    }

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    private List<MimeMessage> EmailsTo(string address) => _node.EmailsTo(address);

    private static string Text(MimeMessage message) => DunningNode.Text(message);

    private static Task<HttpResponseMessage> ChangePlanAsync(HttpClient api, Guid subscriptionId, Guid priceId) =>
        DunningNode.ChangePlanAsync(api, subscriptionId, priceId);

    [Fact]
    public async Task A_declined_renewal_is_told_retried_reminded_and_blocked_then_paid_through_the_link_in_the_email()
    {
        var data = _node.Data;
        await _node.UsePolicyAsync(policy => policy with { Mode = RetryMode.Fixed, FixedIntervalsDays = [2, 5, 9, 20], FinalAction = FinalAction.CancelSubscription });
        var (_, price) = await data.PlanAsync(20m);
        var (_, biggerPrice) = await data.PlanAsync(40m);
        var customer = await data.CustomerAsync("pm_insufficient_funds_");
        var subscription = await data.SubscriptionAsync(customer, price);
        await using (var db = _database.NewContext())
            await db.Customers.Where(c => c.Id == customer.Id).ExecuteUpdateAsync(c => c.SetProperty(x => x.TimeZone, "America/New_York"), Ct);

        // The renewal: the scheduled billing run, its chunks, and the outbox.
        await _node.RunBillingAsync();

        DunningCase opened;
        await using (var db = _database.NewContext())
            opened = await db.DunningCases.AsNoTracking().SingleAsync(c => c.CustomerId == customer.Id, Ct);
        Assert.Equal((DeclineCodes.InsufficientFunds, opened.OpenedAt.AddDays(2)), (opened.LastDeclineCode, opened.NextAttemptAt));
        var failedEmail = Assert.Single(EmailsTo(customer.Email), m => m.Subject!.StartsWith("Action needed", StringComparison.Ordinal));
        // Told in the customer's own time zone: 00:05 UTC on the 17th is the evening of the 16th in New York.
        var firstRetryLocal = TimeZoneInfo.ConvertTime(opened.NextAttemptAt!.Value, NewYork);
        Assert.NotEqual(opened.NextAttemptAt.Value.UtcDateTime.Date, firstRetryLocal.Date);
        Assert.Contains($"We will try again on {firstRetryLocal:d MMM yyyy}.", Text(failedEmail));
        Assert.StartsWith($"{_baseAddress}pay/", _node.PayLinkIn(failedEmail));

        var reminderDay = 0;
        for (var day = 1; day <= 14; day++)
        {
            _clock.Advance(TimeSpan.FromDays(1));
            await _node.RunTheDaysJobsAsync();
            if (reminderDay == 0 && EmailsTo(customer.Email).Any(m => m.Subject!.StartsWith("Reminder: invoice", StringComparison.Ordinal))) reminderDay = day;
        }

        await using (var db = _database.NewContext())
        {
            var retryDays = await db.PaymentAttempts.AsNoTracking().Where(a => a.InvoiceId == opened.InvoiceId && a.Trigger == PaymentTrigger.DunningRetry)
                .OrderBy(a => a.AttemptNumber).Select(a => a.StartedAt).ToListAsync(Ct);
            Assert.Equal([2, 5, 9], retryDays.Select(at => (at - opened.OpenedAt).TotalDays));
            Assert.True((await db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == subscription.Id, Ct)).PlanChangesBlocked);
        }
        Assert.Equal(10, reminderDay);
        Assert.Equal(4, EmailsTo(customer.Email).Count(m => m.Subject!.StartsWith("Action needed", StringComparison.Ordinal)));

        using var api = await _node.ApiClientAsync();
        var refused = await ChangePlanAsync(api, subscription.Id, biggerPrice.Id);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains(Subscription.PlanChangesBlockedReason, await refused.Content.ReadAsStringAsync(Ct));

        // The customer follows the link in the reminder, on a phone, and gives a new card.
        var reminder = EmailsTo(customer.Email).Single(m => m.Subject!.StartsWith("Reminder: invoice", StringComparison.Ordinal));
        await using var context = await browser.NewContextAsync(_baseAddress);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(390, 844);
        await page.GotoAsync(_node.PayLinkIn(reminder));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Update your payment method" })).ToBeVisibleAsync();
        await page.GetByLabel("Sandbox card token").FillAsync("pm_ok_");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save the card and pay $20.00" }).ClickAsync();
        await Expect(page.GetByText("The invoice was paid.")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "dunning-end-to-end-paid");

        await _node.RunAsync<NotificationDeliveryJob>(job => job.RunAsync(Ct));
        var receipt = Assert.Single(EmailsTo(customer.Email), m => m.Subject!.StartsWith("Receipt", StringComparison.Ordinal));
        Assert.Contains("Amount paid:  $20.00", Text(receipt));
        Assert.Equal(HttpStatusCode.OK, (await ChangePlanAsync(api, subscription.Id, biggerPrice.Id)).StatusCode);

        await using (var db = _database.NewContext())
        {
            Assert.Equal(InvoiceStatus.Paid, (await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == opened.InvoiceId, Ct)).Status);
            Assert.Equal(DunningStatus.Recovered, (await db.DunningCases.AsNoTracking().SingleAsync(c => c.Id == opened.Id, Ct)).Status);
            var ids = new[] { opened.Id.ToString(), opened.InvoiceId.ToString(), customer.Id.ToString() };
            var audit = await db.AuditLog.AsNoTracking().Where(a => ids.Contains(a.EntityId)).OrderBy(a => a.Id)
                .Select(a => a.Action + " by " + a.Actor).ToListAsync(Ct);
            var customerActor = $"customer:{customer.Id}";
            Assert.Equal(["dunning.opened by system", "dunning.step_taken by system", "dunning.step_taken by system", $"payment_method.attached by {customerActor}",
                    $"invoice.charge by {customerActor}", "dunning.recovered by system"],
                audit.Where(a => a.StartsWith("dunning.", StringComparison.Ordinal) || a.StartsWith("payment_method.", StringComparison.Ordinal)
                    || a == $"invoice.charge by {customerActor}"));
        }

        // Every step on the case page: the ladder's steps with their days, the charges, the emails.
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Sandy Support", $"/dunning/{opened.Id}");
        await page.SetViewportSizeAsync(1280, 900);
        await Expect(page.GetByTestId("case-status")).ToContainTextAsync("recovered");
        var steps = page.GetByTestId("case-steps").Locator("tbody tr");
        await Expect(steps).ToHaveCountAsync(2);
        await Expect(steps.Nth(0)).ToContainTextAsync("10");
        await Expect(steps.Nth(1)).ToContainTextAsync("14");
        await Expect(page.GetByTestId("case-attempts").Locator("tbody tr")).ToHaveCountAsync(5);
        foreach (var kind in new[] { "payment_failed", "dunning_notice_day_10", "payment_received" })
            await Expect(page.Locator($"[data-testid=notification-row][data-kind={kind}]").First).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "dunning-end-to-end-case");
    }
}
