using BillingConsole.Domain.Tax;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine;
using BillingConsole.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BillingConsole.Tests.Engine;

/// <summary>
/// Whatever a stored subscription says (any anchor day, any period end and time of day, any interval, time zones with DST),
/// its next renewal is one interval long at the full price, or a stub billed in proportion to its length, never more.
/// </summary>
[PureTests]
public sealed class RenewalPeriodPropertyTests
{
    private static readonly string[] Zones = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Santiago"];
    private static readonly string[] Currencies = ["USD", "JPY"];

    /// <summary>A stored subscription state, generated; the engine's snapshot is built from it by <see cref="Snapshot"/>.</summary>
    public sealed record State(string Zone, int AnchorDay, BillingInterval Interval, DateTime LocalPeriodEnd, int PeriodDays,
        long UnitMinor, string Currency, int Quantity, SubscriptionStatus Status, BillingInterval? PendingInterval)
    {
        public override string ToString() =>
            $"{Zone}: {Interval} anchor {AnchorDay}, period end {LocalPeriodEnd:yyyy-MM-dd HH:mm} local ({PeriodDays} days), "
            + $"{UnitMinor} minor {Currency} × {Quantity}, {Status}, pending {PendingInterval?.ToString() ?? "none"}";
    }

    public static class States
    {
        public static Arbitrary<State> Any() =>
            (from zone in Gen.Elements(Zones)
                from anchorDay in Gen.Choose(1, 31)
                from interval in Gen.Elements(BillingInterval.Month, BillingInterval.Year)
                from day in Gen.Choose(0, 5 * 366)
                from minutes in Gen.Frequency((1, Gen.Constant(0)), (3, Gen.Choose(0, 24 * 60 - 1)))
                from periodDays in Gen.Choose(1, 400)
                from unitMinor in Gen.Choose(1, 5_000_000)
                from currency in Gen.Elements(Currencies)
                from quantity in Gen.Choose(1, 25)
                from status in Gen.Elements(SubscriptionStatus.Trialing, SubscriptionStatus.Active, SubscriptionStatus.PastDue)
                from pending in Gen.Elements<BillingInterval?>(null, null, BillingInterval.Month, BillingInterval.Year)
                select new State(zone, anchorDay, interval, new DateTime(2026, 1, 1).AddDays(day).AddMinutes(minutes), periodDays,
                    unitMinor, currency, quantity, status, pending)).ToArbitrary();
    }

    [Property(MaxTest = 1000, Arbitrary = [typeof(States)])]
    public void The_next_invoice_is_one_interval_at_full_price_or_a_stub_in_proportion_to_its_length(State state)
    {
        var calendar = BillingCalendar.ForZone(state.Zone);
        var generator = new InvoiceGenerator(calendar);
        var subscription = Snapshot(state, calendar);
        var price = subscription.PendingChange?.Price ?? subscription.Price;
        var quantity = subscription.PendingChange?.Quantity ?? subscription.Quantity;
        var anchorDay = state.AnchorDay;

        var invoice = generator.PreviewNextInvoice(subscription, [], Money.Zero(state.Currency), InvoiceTax.None)!;

        var (start, end) = (invoice.PeriodStart, invoice.PeriodEnd);
        var line = Assert.Single(invoice.Lines);
        Assert.Equal(subscription.CurrentPeriodEnd, start);
        Assert.Equal((start, end), (line.PeriodStart, line.PeriodEnd));
        // Never longer than one interval: a month has at most 31 days, a year 366, plus an hour given back by DST.
        var longest = (price.Interval == BillingInterval.Month ? TimeSpan.FromDays(31) : TimeSpan.FromDays(366)) + TimeSpan.FromHours(1);
        Assert.InRange(end - start, TimeSpan.FromSeconds(1), longest);
        Assert.True(calendar.IsAnchorDate(end, anchorDay), $"The renewal ends on {end:u}, not an anchor date.");

        var fullPrice = (price.UnitAmount * quantity).Rounded();
        if (calendar.IsAnchorDate(start, anchorDay))
        {
            Assert.Equal(calendar.NextPeriodEnd(start, price.Interval, anchorDay), end);
            Assert.Equal((InvoiceLineKind.Recurring, fullPrice), (line.Kind, line.Amount));
        }
        else
        {
            var wholeStart = calendar.PreviousPeriodStart(end, price.Interval, anchorDay);
            Assert.True(calendar.IsAnchorDate(wholeStart, anchorDay), $"The whole period starts on {wholeStart:u}, not an anchor date.");
            Assert.True(wholeStart < start, "A stub is shorter than the whole period it ends.");
            var stubSeconds = (long)(end - start).TotalSeconds;
            var wholeSeconds = (long)(end - wholeStart).TotalSeconds;
            var expected = Math.Round(price.UnitAmount.Amount * quantity * stubSeconds / wholeSeconds, MinorUnits(state.Currency),
                MidpointRounding.AwayFromZero);
            Assert.Equal((InvoiceLineKind.ProrationCharge, expected), (line.Kind, line.Amount.Amount));
            Assert.True(line.Amount <= fullPrice, "A stub never costs more than a whole period.");
        }

        // Once renewed, the subscription is on its anchor: the renewal after that is a whole period.
        var renewed = subscription with { CurrentPeriodStart = start, CurrentPeriodEnd = end, Price = price, Quantity = quantity, PendingChange = null };
        var next = generator.PreviewNextInvoice(renewed, [], Money.Zero(state.Currency), InvoiceTax.None)!;
        Assert.Equal((end, calendar.NextPeriodEnd(end, price.Interval, anchorDay), fullPrice), (next.PeriodStart, next.PeriodEnd, next.Subtotal));
    }

    private static int MinorUnits(string currency) => currency == "JPY" ? 0 : 2;

    private static BillableSubscription Snapshot(State state, BillingCalendar calendar)
    {
        var zone = calendar.TimeZone;
        // A local time skipped by DST is stored as the instant just after the gap, as the calendar stores it.
        var local = state.LocalPeriodEnd;
        while (zone.IsInvalidTime(local)) local = local.AddMinutes(30);
        var periodEnd = new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
        var unit = new Money(state.UnitMinor / (decimal)Math.Pow(10, MinorUnits(state.Currency)), state.Currency);
        var price = new BillablePrice(Guid.NewGuid(), "Plan", unit, state.Interval);
        var pending = state.PendingInterval is { } interval
            ? new PendingPriceChange(new BillablePrice(Guid.NewGuid(), "Other plan", unit * 3, interval), state.Quantity + 1)
            : null;
        return new BillableSubscription(Guid.NewGuid(), Guid.NewGuid(), state.Status, state.Quantity, price,
            periodEnd.AddDays(-state.PeriodDays), periodEnd, state.AnchorDay, PendingChange: pending);
    }
}
