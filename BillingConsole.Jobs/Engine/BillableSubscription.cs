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
    bool PlanChangesBlocked = false)
{
    public string Currency => Price.Currency;

    /// <summary>Trialing, active or past due: renews and may change plan. Paused, unpaid and canceled do neither.</summary>
    public bool IsBillable => Status is SubscriptionStatus.Trialing or SubscriptionStatus.Active or SubscriptionStatus.PastDue;

    /// <summary>The snapshot of a stored subscription, with the anchor day it keeps.</summary>
    public static BillableSubscription From(Subscription subscription, BillablePrice price, BillablePrice? pendingPrice) =>
        From(subscription, price, pendingPrice, subscription.BillingAnchorDay);

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
    public InvoiceLine ToLine() => new(Kind, Description, Quantity, UnitAmount, Amount, PeriodStart, PeriodEnd, PriceId);

    public static InvoiceLineDraft From(PendingInvoiceLine line) =>
        new(line.Kind, line.Description, line.Quantity, line.UnitAmount, line.Amount, line.PeriodStart, line.PeriodEnd, line.PriceId);
}
