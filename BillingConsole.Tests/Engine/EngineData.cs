using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine;
using static BillingConsole.Tests.Domain.Build;

namespace BillingConsole.Tests.Engine;

/// <summary>A small catalog and subscription snapshots for the engine tests, in a UTC billing calendar.</summary>
internal static class EngineData
{
    public static readonly BillingCalendar Calendar = new(TimeZoneInfo.Utc);
    public static readonly Guid SubscriptionId = Guid.Parse("00000000-0000-0000-0000-00000000d001");

    public static readonly BillablePrice Basic = Monthly("Basic", 30m);
    public static readonly BillablePrice Pro = Monthly("Pro", 90m);

    public static BillablePrice Monthly(string plan, decimal amount) => Priced(plan, amount, BillingInterval.Month);

    public static BillablePrice Priced(string plan, decimal amount, BillingInterval interval) =>
        new(Guid.NewGuid(), plan, Usd(amount), interval);

    public static DateTimeOffset Utc(int year, int month, int day, int hour = 0) => new(year, month, day, hour, 0, 0, TimeSpan.Zero);

    /// <summary>An active subscription whose current period is the calendar month that starts at <paramref name="periodStart"/>.</summary>
    public static BillableSubscription Subscription(BillablePrice price, int quantity, DateTimeOffset periodStart,
        SubscriptionStatus status = SubscriptionStatus.Active) =>
        new(SubscriptionId, CustomerId, status, quantity, price, periodStart,
            Calendar.NextPeriodEnd(periodStart, price.Interval, periodStart.Day), periodStart.Day);
}
