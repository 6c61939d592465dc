using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Notifications;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Notifications;
using BillingConsole.Tests.Engine.Dunning;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine.Notifications;

/// <summary>
/// What dunning tells the customer, day by day: a renewal declines; each failed charge writes its email, the ladder's notify
/// step on day 10 writes its own, the final notice goes on day 18, and the cancellation on day 21 writes the last one, each once, delivered to a real SMTP
/// server with the next retry date in the customer's own time zone.
/// </summary>
public sealed class DunningNotificationTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private MigratedDatabase _database = null!;
    private TestSmtpServer _smtp = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("dunning_notices");
        _smtp = TestSmtpServer.Start();
        // Weeks of a case pass before its emails are delivered together: none may be given up as too late.
        _engine = EngineServices.Create(_database, settings: new Dictionary<string, string?>(_smtp.Settings()) { ["Email:GiveUpAfterHours"] = "8760" });
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
        await using var db = _database.NewContext();
        db.DunningPolicies.Add(new DunningPolicyVersion(1, Dunning.Dunning.Fixed(2, 9, 21) with { FinalAction = FinalAction.CancelSubscription },
            "test", "Retries on days 2, 9 and 21", _engine.Clock.GetUtcNow()));
        await db.SaveChangesAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        _smtp.Dispose();
        await _database.DisposeAsync();
    }

    private async Task<List<Notification>> NotificationsAsync(Guid customerId)
    {
        await using var db = _database.NewContext();
        return await db.Notifications.AsNoTracking().Where(n => n.CustomerId == customerId).OrderBy(n => n.CreatedAt).ThenBy(n => n.Kind).ToListAsync(Ct);
    }

    [Fact]
    public async Task Every_failure_the_notify_step_and_the_cancellation_each_write_one_email()
    {
        var (_, price) = await _data.PlanAsync(20m);
        var customer = await _data.CustomerAsync("pm_insufficient_funds_");
        var subscription = await _data.SubscriptionAsync(customer, price);
        await using (var db = _database.NewContext())
        {
            await db.Customers.Where(c => c.Id == customer.Id).ExecuteUpdateAsync(c => c.SetProperty(x => x.TimeZone, "Pacific/Auckland"), Ct);
        }
        await _engine.RunBillingAsync();
        await _engine.InScopeAsync<NotificationDelivery, DeliveryPass>(d => d.RunDueAsync(Ct));
        var failedEmail = _smtp.Messages.Single(m => m.Subject!.StartsWith("Action needed", StringComparison.Ordinal));
        await using (var db = _database.NewContext())
        {
            var nextRetry = (await db.DunningCases.AsNoTracking().SingleAsync(c => c.CustomerId == customer.Id, Ct)).NextAttemptAt!.Value;
            var local = TimeZoneInfo.ConvertTime(nextRetry, TimeZoneInfo.FindSystemTimeZoneById("Pacific/Auckland"));
            Assert.Contains($"We will try again on {local:d MMM yyyy}.", failedEmail.TextBody);
        }

        for (var day = 1; day <= 22; day++)
        {
            _engine.Clock.Advance(TimeSpan.FromDays(1));
            await _engine.InScopeAsync<DunningLadder, int>(ladder => ladder.RunDueAsync(Ct));
            await _engine.Get<DunningRetryRunner>().RunDueAsync(Ct);
            // A second pass the same day (another node, the next minute) writes nothing more.
            await _engine.InScopeAsync<DunningLadder, int>(ladder => ladder.RunDueAsync(Ct));
        }
        await _engine.InScopeAsync<NotificationDelivery, DeliveryPass>(d => d.RunDueAsync(Ct));

        var kinds = (await NotificationsAsync(customer.Id)).Select(n => n.Kind).ToList();
        Assert.Equal([NotificationKinds.InvoiceIssued, NotificationKinds.PaymentFailed, NotificationKinds.PaymentFailed, NotificationKinds.PaymentFailed,
            "dunning_notice_day_10", NotificationKinds.FinalNotice, NotificationKinds.SubscriptionCanceled], kinds);
        Assert.All(await NotificationsAsync(customer.Id), n => Assert.Equal(NotificationStatus.Sent, n.Status));
        Assert.Equal(7, _smtp.Messages.Select(m => m.MessageId).Distinct().Count());
        Assert.Single(_smtp.Messages, m => m.Subject!.StartsWith("Reminder: invoice", StringComparison.Ordinal));
        Assert.Single(_smtp.Messages, m => m.Subject == "Your subscription with BillingConsole Demo Ltd has been canceled");
        await using var check = _database.NewContext();
        Assert.Equal(SubscriptionStatus.Canceled, (await check.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == subscription.Id, Ct)).Status);
    }
}
