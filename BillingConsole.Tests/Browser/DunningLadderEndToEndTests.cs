using System.Net;
using System.Net.Http.Json;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// The escalation ladder through the real jobs for a card the bank reported lost (a hard decline, never retried), the clock
/// moved a day at a time on a node of its own: with no new card the case reaches the final action on the ladder's day,
/// after the final notice; with a card given after the block step the invoice is paid at once and plan changes come back.
/// The default ladder: notify on day 10, block plan changes on day 14, final action on day 21, final notice 3 days before.
/// </summary>
public sealed class DunningLadderEndToEndTests(ConsoleAppHost host, BrowserFixture browser) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private DunningNode _node = null!;

    public async ValueTask InitializeAsync()
    {
        _node = await DunningNode.StartAsync(host, "dunning_ladder_end_to_end");
        await _node.UsePolicyAsync(policy => policy with { Mode = RetryMode.Fixed, FixedIntervalsDays = [2, 5, 9], FinalAction = FinalAction.CancelSubscription });
    }

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    private sealed record LostCard(Customer Customer, Subscription Subscription, DunningCase Case, Price BiggerPrice);

    /// <summary>A renewal declined because the card was reported lost: the case waits for a new card.</summary>
    private async Task<LostCard> LostCardRenewalAsync()
    {
        var (_, price) = await _node.Data.PlanAsync(20m);
        var (_, biggerPrice) = await _node.Data.PlanAsync(40m);
        var customer = await _node.Data.CustomerAsync("pm_lost_card_");
        var subscription = await _node.Data.SubscriptionAsync(customer, price);
        await _node.RunBillingAsync();
        await using var db = _node.Database.NewContext();
        var opened = await db.DunningCases.AsNoTracking().SingleAsync(c => c.CustomerId == customer.Id, Ct);
        Assert.Equal((DunningStatus.AwaitingPaymentMethod, DeclineCodes.LostCard, (DateTimeOffset?)null), (opened.Status, opened.LastDeclineCode, opened.NextAttemptAt));
        return new LostCard(customer, subscription, opened, biggerPrice);
    }

    /// <summary>Moves the clock a day at a time through <paramref name="lastDay"/>, running the day's jobs; the day each email subject first arrived.</summary>
    private async Task<Dictionary<string, int>> RunDaysAsync(string address, int firstDay, int lastDay, Func<int, Task>? everyDay = null)
    {
        var arrived = new Dictionary<string, int>();
        for (var day = firstDay; day <= lastDay; day++)
        {
            _node.Clock.Advance(TimeSpan.FromDays(1));
            await _node.RunTheDaysJobsAsync();
            foreach (var subject in _node.EmailsTo(address).Select(m => m.Subject!)) arrived.TryAdd(subject, day);
            if (everyDay is not null) await everyDay(day);
        }
        return arrived;
    }

    private static int DayOf(Dictionary<string, int> arrived, string subjectStart) =>
        Assert.Single(arrived, a => a.Key.StartsWith(subjectStart, StringComparison.Ordinal)).Value;

    [Fact]
    public async Task A_hard_decline_with_no_new_card_reaches_the_final_action_on_its_day_after_the_final_notice_and_the_customer_is_told()
    {
        var lost = await LostCardRenewalAsync();
        int? closedOnDay = null;
        var arrived = await RunDaysAsync(lost.Customer.Email, 1, 23, async day =>
        {
            await using var db = _node.Database.NewContext();
            if (closedOnDay is null && await db.DunningCases.AnyAsync(c => c.Id == lost.Case.Id && c.Status == DunningStatus.Exhausted, Ct)) closedOnDay = day;
        });

        Assert.Equal(21, closedOnDay);
        Assert.Equal(10, DayOf(arrived, "Reminder: invoice"));
        Assert.Equal(18, DayOf(arrived, "Final notice: invoice"));
        Assert.Equal(21, DayOf(arrived, "Your subscription with"));
        var finalNotice = _node.EmailsTo(lost.Customer.Email).Single(m => m.Subject!.StartsWith("Final notice", StringComparison.Ordinal));
        Assert.Contains($"if it is still unpaid on {lost.Case.OpenedAt.AddDays(21).UtcDateTime:d MMM yyyy}", DunningNode.Text(finalNotice));
        await using (var db = _node.Database.NewContext())
        {
            // Never retried: the renewal's charge is the only one.
            Assert.Equal(1, await db.PaymentAttempts.CountAsync(a => a.InvoiceId == lost.Case.InvoiceId, Ct));
            Assert.Equal(SubscriptionStatus.Canceled, await db.Subscriptions.Where(s => s.Id == lost.Subscription.Id).Select(s => s.Status).SingleAsync(Ct));
            var ids = new[] { lost.Case.Id.ToString(), lost.Case.InvoiceId.ToString() };
            var audit = await db.AuditLog.AsNoTracking().Where(a => ids.Contains(a.EntityId) && a.Action.StartsWith("dunning.")).OrderBy(a => a.Id)
                .Select(a => a.Action).ToListAsync(Ct);
            Assert.Equal(["dunning.opened", "dunning.step_taken", "dunning.step_taken", "dunning.final_notice", "dunning.step_taken", "dunning.final_action"], audit);
        }

        await using var context = await browser.NewContextAsync(_node.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Sandy Support", $"/dunning/{lost.Case.Id}");
        await Expect(page.GetByTestId("case-status")).ToContainTextAsync("exhausted");
        var steps = page.GetByTestId("case-steps").Locator("tbody tr");
        await Expect(steps).ToHaveCountAsync(3);
        await Expect(steps.Nth(0)).ToContainTextAsync("10");
        await Expect(steps.Nth(1)).ToContainTextAsync("14");
        await Expect(steps.Nth(2)).ToContainTextAsync("21");
        foreach (var kind in new[] { "payment_failed", "dunning_notice_day_10", "final_notice", "subscription_canceled" })
            await Expect(page.Locator($"[data-testid=notification-row][data-kind={kind}]").First).ToBeVisibleAsync();
        // A closed case offers no pause.
        await Expect(page.GetByTestId("pause-dunning")).ToHaveCountAsync(0);
        await BrowserFixture.ScreenshotAsync(page, "dunning-ladder-final-action-case");
    }

    [Fact]
    public async Task A_card_given_after_the_block_step_pays_at_once_lifts_the_block_and_ends_the_ladder()
    {
        var lost = await LostCardRenewalAsync();
        await RunDaysAsync(lost.Customer.Email, 1, 15);
        using var api = await _node.ApiClientAsync();
        using (var blocked = await DunningNode.ChangePlanAsync(api, lost.Subscription.Id, lost.BiggerPrice.Id))
            Assert.Equal(HttpStatusCode.UnprocessableEntity, blocked.StatusCode);

        // Day 15: the upstream system attaches the card the customer gave it.
        var attach = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/customers/{lost.Customer.Id}/payment-methods")
        {
            Content = JsonContent.Create(new { gateway = "sandbox", token = $"pm_ok_{Guid.NewGuid():N}", brand = "visa", last4 = "4444", expMonth = 12, expYear = 2031 }),
        };
        attach.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using (var attached = await api.SendAsync(attach, Ct)) Assert.True(attached.IsSuccessStatusCode, await attached.Content.ReadAsStringAsync(Ct));

        using (var changed = await DunningNode.ChangePlanAsync(api, lost.Subscription.Id, lost.BiggerPrice.Id))
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var arrived = await RunDaysAsync(lost.Customer.Email, 16, 23);

        Assert.DoesNotContain(arrived.Keys, s => s.StartsWith("Final notice", StringComparison.Ordinal) || s.StartsWith("Your subscription with", StringComparison.Ordinal));
        await using var db = _node.Database.NewContext();
        Assert.Equal(DunningStatus.Recovered, await db.DunningCases.Where(c => c.Id == lost.Case.Id).Select(c => c.Status).SingleAsync(Ct));
        Assert.Equal([10, 14], await db.Set<DunningStepTaken>().Where(s => s.CaseId == lost.Case.Id).OrderBy(s => s.Day).Select(s => s.Day).ToListAsync(Ct));
        Assert.Equal(InvoiceStatus.Paid, await db.Invoices.Where(i => i.Id == lost.Case.InvoiceId).Select(i => i.Status).SingleAsync(Ct));
        var subscription = await db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == lost.Subscription.Id, Ct);
        Assert.Equal((SubscriptionStatus.Active, false), (subscription.Status, subscription.PlanChangesBlocked));
    }
}
