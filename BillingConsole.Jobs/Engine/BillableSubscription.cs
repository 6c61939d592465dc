using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Subscriptions;

namespace BillingConsole.Engine;

/// <summary>A price as billing needs it: what one unit costs per interval, and the plan name printed on lines.</summary>
public sealed record BillablePrice(Guid PriceId, string PlanName, Money UnitAmount, BillingInterval Interval)
{
    public static BillablePrice From(Plan plan, Price price) => new(price.Id, plan.Name, price.Amount, price.Interval);

    public string Currency => UnitAmount.Currency;

    /// <summary>
    /// What <paramref name="quantity"/> units cost per month (a yearly price counts a twelfth), unrounded:
    /// the measure that tells an upgrade from a downgrade.
    /// </summary>
    public Money MonthlyAmount(int quantity) => Price.MonthlyEquivalent(UnitAmount, Interval) * quantity;
}

/// <summary>
/// A discount as billing needs it: a coupon's terms and the window of period starts it covers (see <see cref="Discount"/>).
/// </summary>
/// <param name="AmountOff">Off each period charge, at most the charge itself; null for a percentage.</param>
public sealed record AppliedDiscount(Guid DiscountId, string CouponName, decimal? PercentOff, Money? AmountOff, DateTimeOffset StartsAt,
    DateTimeOffset? EndsAt)
{
    public static AppliedDiscount From(Discount discount, Coupon coupon) =>
        new(discount.Id, coupon.Name, coupon.PercentOff, coupon.AmountOff, discount.StartsAt, discount.EndsAt);

    public bool Covers(DateTimeOffset periodStart) => StartsAt <= periodStart && (EndsAt is not { } end || periodStart < end);

    /// <summary>What comes off a period charge, rounded like every line: the percentage of it, or the amount (never more than the charge).</summary>
    public Money AmountOf(Money charge)
    {
        if (!charge.IsPositive) return Money.Zero(charge.Currency);
        var off = PercentOff is { } percent ? (charge * (percent / 100m)).Rounded() : AmountOff!.Value;
        return Money.Min(off, charge);
    }
}

/// <summary>A plan change waiting for the end of the current period.</summary>
public sealed record PendingPriceChange(BillablePrice Price, int Quantity);

/// <summary>
/// What the engine needs to know about one subscription, read at one moment. The engine's functions take this
/// snapshot, never the tracked entity, so a preview and a real run see exactly the same input.
/// </summary>
public sealed record BillableSubscription(
    Guid SubscriptionId,
    Guid CustomerId,
    SubscriptionStatus Status,
    int Quantity,
    BillablePrice Price,
    DateTimeOffset CurrentPeriodStart,
    DateTimeOffset CurrentPeriodEnd,
    int BillingAnchorDay,
    DateTimeOffset? TrialEnd = null,
    bool CancelAtPeriodEnd = false,
    PendingPriceChange? PendingChange = null,
    bool PlanChangesBlocked = false,
    IReadOnlyList<AppliedDiscount>? Discounts = null)
{
    /// <summary>
    /// The discount on the period starting at <paramref name="periodStart"/>: the first of <see cref="Discounts"/> (the
    /// subscription's own before its customer's, newest first) that covers it; the same choice <c>MrrRecorder</c> makes in SQL.
    /// </summary>
    public AppliedDiscount? DiscountOn(DateTimeOffset periodStart) => Discounts?.FirstOrDefault(d => d.Covers(periodStart));

    public string Currency => Price.Currency;

    /// <summary>Trialing, active or past due: renews and may change plan. Paused, unpaid and canceled do neither.</summary>
    public bool IsBillable => Status is SubscriptionStatus.Trialing or SubscriptionStatus.Active or SubscriptionStatus.PastDue;

    /// <summary>The snapshot of a stored subscription, with the anchor day it keeps.</summary>
    public static BillableSubscription From(Subscription subscription, BillablePrice price, BillablePrice? pendingPrice,
        IReadOnlyList<AppliedDiscount>? discounts = null) =>
        From(subscription, price, pendingPrice, subscription.BillingAnchorDay) with { Discounts = discounts };

    /// <param name="subscription">The stored subscription.</param>
    /// <param name="price">The subscription's current price.</param>
    /// <param name="pendingPrice">The price of <see cref="Subscription.PendingPriceId"/>, when one is scheduled.</param>
    /// <param name="billingAnchorDay">The day of month periods keep (see <see cref="BillingCalendar.AnchorDayOf"/>).</param>
    public static BillableSubscription From(Subscription subscription, BillablePrice price, BillablePrice? pendingPrice, int billingAnchorDay)
    {
        if (price.PriceId != subscription.PriceId) throw new ArgumentException("The price is not the subscription's price.", nameof(price));
        if (pendingPrice?.PriceId != subscription.PendingPriceId)
            throw new ArgumentException("The pending price is not the subscription's pending price.", nameof(pendingPrice));
        return new BillableSubscription(subscription.Id, subscription.CustomerId, subscription.Status, subscription.Quantity, price,
            subscription.CurrentPeriodStart, subscription.CurrentPeriodEnd, billingAnchorDay, subscription.TrialEnd,
            subscription.CancelAtPeriodEnd,
            pendingPrice is null ? null : new PendingPriceChange(pendingPrice, subscription.PendingQuantity ?? subscription.Quantity),
            subscription.PlanChangesBlocked);
    }
}

/// <summary>An invoice line before it belongs to an invoice: what the engine computes and a preview shows.</summary>
/// <param name="UnitAmount">The catalog price of one unit for a whole period; for proration lines too.</param>
/// <param name="Amount">What the line adds to the invoice, rounded to the currency's minor unit; negative for a credit.</param>
public sealed record InvoiceLineDraft(
    InvoiceLineKind Kind,
    string Description,
    int Quantity,
    Money UnitAmount,
    Money Amount,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    Guid? PriceId)
{
    /// <summary>Set when the line is put on an invoice (<see cref="GeneratedInvoice.Create"/>); null on a line still waiting.</summary>
    public InvoiceLineTax? Tax { get; init; }

    public InvoiceLine ToLine() => new(Kind, Description, Quantity, UnitAmount, Amount, PeriodStart, PeriodEnd, PriceId, Tax);

    public static InvoiceLineDraft From(PendingInvoiceLine line) =>
        new(line.Kind, line.Description, line.Quantity, line.UnitAmount, line.Amount, line.PeriodStart, line.PeriodEnd, line.PriceId);
}
