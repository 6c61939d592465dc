using BillingConsole.Engine;
using BillingConsole.Engine.Notifications;
using BillingConsole.Persistence;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>
/// Daily, writes the "card expiring" email of every customer whose default card expires at the end of next month. Each
/// card is told once a month whichever day or node runs it (the notification's event key is the card and its month).
/// </summary>
public sealed class CardExpiryNoticeJob(BillingDbContext db, BillingCalendar calendar, TimeProvider clock)
{
    [AutomaticRetry(Attempts = 0)]
    public Task<int> RunAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var nextMonth = calendar.LocalDate(now).AddMonths(1);
        return NotificationOutbox.CardsExpiringAsync(db, nextMonth.Year, nextMonth.Month, now, ct);
    }
}
