using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Notifications;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.Payments;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace BillingConsole.Tests.Engine.Notifications;

/// <summary>
/// The emails dunning writes besides the payment-failed notice: the request to confirm a payment the bank wants
/// authenticated, the retry-scheduled notice when the policy asks for it, and the final notice before the final action,
/// each written once and delivered to a real SMTP server.
/// </summary>
public sealed class DunningPolicyEmailTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private MigratedDatabase _database = null!;
    private TestSmtpServer _smtp = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("dunning_policy_emails");
        _smtp = TestSmtpServer.Start();
        // Weeks of a case pass before its emails are delivered together: none may be given up as too late.
        _engine = EngineServices.Create(_database, settings: new Dictionary<string, string?>(_smtp.Settings()) { ["Email:GiveUpAfterHours"] = "8760" });
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        _smtp.Dispose();
        await _database.DisposeAsync();
    }

    private async Task SavePolicyAsync(int version, DunningPolicySettings settings)
    {
        await using var db = _database.NewContext();
        db.DunningPolicies.Add(new DunningPolicyVersion(version, settings, "test", $"Version {version}", _engine.Clock.GetUtcNow()));
        await db.SaveChangesAsync(Ct);
    }

    private async Task<List<Notification>> NotificationsAsync(Guid customerId, string kind)
    {
        await using var db = _database.NewContext();
        return await db.Notifications.AsNoTracking().Where(n => n.CustomerId == customerId && n.Kind == kind).OrderBy(n => n.CreatedAt).ToListAsync(Ct);
    }

    private Task<DeliveryPass> DeliverAsync() =>
        _engine.InScopeAsync<NotificationDelivery, DeliveryPass>(d => d.RunDueAsync(CancellationToken.None));

    private Task<ChargeResult> ChargeAsync(Guid invoiceId) =>
        _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.Manual, Actor.System, CancellationToken.None));

    private Task<int> LadderPassAsync() => _engine.InScopeAsync<DunningLadder, int>(ladder => ladder.RunDueAsync(Ct));

    private static string Text(MimeMessage message) =>
        message.BodyParts.OfType<TextPart>().Single(p => p.ContentType.MediaSubtype == "plain" && !p.IsAttachment).Text;

    private async Task<string> EmailToAsync(Guid customerId, string subjectStart)
    {
        await using var db = _database.NewContext();
        var email = (await db.Customers.AsNoTracking().SingleAsync(c => c.Id == customerId, Ct)).Email;
        return Text(_smtp.Messages.Single(m => m.To.Mailboxes.Single().Address == email && m.Subject!.StartsWith(subjectStart, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_payment_the_bank_wants_authenticated_asks_the_customer_to_confirm_it_on_the_pay_page_not_to_update_the_card()
    {
        await SavePolicyAsync(1, DunningPolicySettings.Default);
        // One charged alone (the console's charge), one by the billing run's batch charger: both paths write the same email.
        var (_, price) = await _data.PlanAsync(30m);
        var renewed = await _data.CustomerAsync("pm_authentication_required_");
        await _data.SubscriptionAsync(renewed, price);
        await _engine.RunBillingAsync();
        var (invoiceId, chargedAlone) = await _engine.OpenInvoiceAsync(_data, "pm_authentication_required_");
        Assert.Equal(ChargeStatus.Failed, (await ChargeAsync(invoiceId)).Status);

        foreach (var customerId in new[] { chargedAlone, renewed.Id })
        {
            Assert.Single(await NotificationsAsync(customerId, NotificationKinds.PaymentAuthenticationRequired));
            Assert.Empty(await NotificationsAsync(customerId, NotificationKinds.PaymentFailed));
        }
        await DeliverAsync();
        foreach (var customerId in new[] { chargedAlone, renewed.Id })
        {
            var text = await EmailToAsync(customerId, "Please confirm your payment");
            Assert.Contains("Your bank wants you to confirm this payment yourself", text);
            Assert.Contains("there is nothing to update", text);
            Assert.Matches(@"confirm the payment:\s+http://127\.0\.0\.1:8080/pay/\S+", text);
            Assert.DoesNotContain("update your card", text, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Equal(2, _smtp.Messages.Count(m => m.Subject!.StartsWith("Please confirm your payment", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_retry_scheduled_email_goes_once_per_retry_only_when_the_policy_asks_for_it_and_never_beside_the_failure_email_naming_it()
    {
        await SavePolicyAsync(1, Dunning.Dunning.Fixed(2, 5, 9));
        var (_, quiet) = await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_");
        await ChargeAllOpenAsync(quiet);
        Assert.Empty(await NotificationsAsync(quiet, NotificationKinds.RetryScheduled));

        // Saved for new cases only, so the first customer's case stays on version 1 and keeps quiet.
        await using (var db = _database.NewContext())
        {
            db.DunningPolicies.Add(new DunningPolicyVersion(2, Dunning.Dunning.Fixed(2, 5, 9) with { NotifyRetryScheduled = true }, "test", "Retry emails",
                _engine.Clock.GetUtcNow(), appliesToOpenCases: false));
            await db.SaveChangesAsync(Ct);
        }
        var (_, told) = await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_");
        await ChargeAllOpenAsync(told);
        // The first retry fails on day 2, however often the runner looks. Each failure's own email names the next retry: one email per failure.
        _engine.Clock.Advance(TimeSpan.FromDays(2));
        await _engine.Get<DunningRetryRunner>().RunDueAsync(Ct);
        await _engine.Get<DunningRetryRunner>().RunDueAsync(Ct);
        Assert.Equal(2, (await NotificationsAsync(told, NotificationKinds.PaymentFailed)).Count);
        Assert.Empty(await NotificationsAsync(told, NotificationKinds.RetryScheduled));

        // A policy saved for open cases moves both pending retries, which no email named yet: each is announced, once.
        await SavePolicyAsync(3, Dunning.Dunning.Fixed(3, 6, 9) with { NotifyRetryScheduled = true });
        await _engine.InScopeAsync<DunningService, PolicyImpact>(d => d.RescheduleWaitingCasesAsync(3, Ct));
        var notice = Assert.Single(await NotificationsAsync(told, NotificationKinds.RetryScheduled));
        Assert.Single(await NotificationsAsync(quiet, NotificationKinds.RetryScheduled));
        // Moved again: a retry already announced is not announced again.
        await SavePolicyAsync(4, Dunning.Dunning.Fixed(3, 7, 9) with { NotifyRetryScheduled = true });
        await _engine.InScopeAsync<DunningService, PolicyImpact>(d => d.RescheduleWaitingCasesAsync(4, Ct));
        Assert.Single(await NotificationsAsync(told, NotificationKinds.RetryScheduled));

        await DeliverAsync();
        await using var check = _database.NewContext();
        var dunningCase = await check.DunningCases.AsNoTracking().SingleAsync(c => c.CustomerId == told, Ct);
        Assert.Equal($"{dunningCase.Id}:2", notice.EventKey);
        var address = (await check.Customers.AsNoTracking().SingleAsync(c => c.Id == told, Ct)).Email;
        var retryEmail = Assert.Single(_smtp.Messages, m => m.To.Mailboxes.Single().Address == address
            && m.Subject!.StartsWith("We will try your payment of $20.00 again on", StringComparison.Ordinal));
        Assert.Contains("Visa ending in 4242 again on", Text(retryEmail));
        var nextRetry = TimeZoneInfo.ConvertTime(dunningCase.NextAttemptAt!.Value, TimeZoneInfo.Utc);
        Assert.EndsWith($"again on {nextRetry:d MMM yyyy}", retryEmail.Subject);
    }

    private async Task ChargeAllOpenAsync(Guid customerId)
    {
        await using var db = _database.NewContext();
        foreach (var invoiceId in await db.Invoices.Where(i => i.CustomerId == customerId).Select(i => i.Id).ToListAsync(Ct))
            await ChargeAsync(invoiceId);
    }

    [Theory]
    [InlineData(3, 18)]
    [InlineData(7, 14)]
    [InlineData(0, null)]
    public async Task The_final_notice_goes_once_on_its_day_before_the_final_action_even_to_a_case_waiting_for_a_card(int daysBefore, int? expectedDay)
    {
        await SavePolicyAsync(1, DunningPolicySettings.Default with { FinalNoticeDaysBefore = daysBefore, FinalAction = FinalAction.CancelSubscription });
        var (invoiceId, customerId) = await _engine.OpenInvoiceAsync(_data, "pm_expired_card_");
        await ChargeAsync(invoiceId);

        int? writtenOnDay = null;
        for (var day = 1; day <= 22; day++)
        {
            _engine.Clock.Advance(TimeSpan.FromDays(1));
            await LadderPassAsync();
            // A second pass the same day (another node, the next minute) writes nothing more.
            await LadderPassAsync();
            if (writtenOnDay is null && (await NotificationsAsync(customerId, NotificationKinds.FinalNotice)).Count > 0) writtenOnDay = day;
        }
        await DeliverAsync();

        Assert.Equal(expectedDay, writtenOnDay);
        var notices = await NotificationsAsync(customerId, NotificationKinds.FinalNotice);
        Assert.Equal(expectedDay is null ? 0 : 1, notices.Count);
        Assert.Single(await NotificationsAsync(customerId, NotificationKinds.SubscriptionCanceled));
        await using var db = _database.NewContext();
        var dunningCase = await db.DunningCases.AsNoTracking().SingleAsync(c => c.CustomerId == customerId, Ct);
        Assert.Equal(DunningStatus.Exhausted, dunningCase.Status);
        var audited = await db.AuditLog.AsNoTracking().CountAsync(a => a.Action == "dunning.final_notice" && a.EntityId == dunningCase.Id.ToString(), Ct);
        Assert.Equal(notices.Count, audited);
        if (expectedDay is null) return;
        Assert.Equal(NotificationStatus.Sent, notices[0].Status);
        Assert.Equal(dunningCase.Id, notices[0].DunningCaseId);
        var text = await EmailToAsync(customerId, "Final notice: invoice");
        // The final action's day (21 by default), in the customer's time zone (here the billing time zone, UTC).
        Assert.Contains($"This is our last reminder: if it is still unpaid on {dunningCase.OpenedAt.AddDays(21).UtcDateTime:d MMM yyyy}, we will stop", text);
        Assert.Matches(@"charge the invoice at once:\s+http://127\.0\.0\.1:8080/pay/\S+", text);
    }
}
