using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Subscriptions;

namespace BillingConsole.Engine;

/// <summary>When the money of a plan change moves.</summary>
public enum ProrationBehavior
{
    /// <summary>Prorate now and invoice the lines now, on a plan-change invoice. The default for upgrades.</summary>
    Immediate,
    /// <summary>Prorate now and carry the lines onto the next cycle invoice.</summary>
    NextInvoice,
    /// <summary>No proration: the new plan starts at renewal. The default for downgrades.</summary>
    AtPeriodEnd,
}

/// <summary>
/// A priced plan change: the same record serves the console's preview and the change itself, so what the person
/// confirmed is what is billed.
/// </summary>
/// <param name="EffectiveAt">When the new plan takes over: the change time, or the period end for <see cref="ProrationBehavior.AtPeriodEnd"/>.</param>
/// <param name="Lines">The credit line, then the charge line; empty when nothing is prorated.</param>
/// <param name="Net">The sum of the lines: positive when the customer owes, negative when they are owed.</param>
public sealed record PlanChangeQuote(
    Guid SubscriptionId,
    BillablePrice FromPrice,
    int FromQuantity,
    BillablePrice ToPrice,
    int ToQuantity,
    bool IsUpgrade,
    ProrationBehavior Behavior,
    DateTimeOffset QuotedAt,
    DateTimeOffset EffectiveAt,
    IReadOnlyList<InvoiceLineDraft> Lines,
    Money Net)
{
    /// <summary>Carries the change out on the subscription: now, or scheduled for the period end.</summary>
    public void ApplyTo(Subscription subscription)
    {
        if (subscription.Id != SubscriptionId) throw new ArgumentException("The quote is for another subscription.", nameof(subscription));
        if (Behavior == ProrationBehavior.AtPeriodEnd)
            subscription.SchedulePriceChange(ToPrice.PriceId, ToQuantity);
        else
            subscription.ChangePrice(ToPrice.PriceId, ToQuantity);
    }
}

/// <summary>
/// Prices a mid-period plan change (see docs/proration.md).
/// </summary>
/// <remarks>
/// <para>The fraction of the period left is measured in whole seconds of the actual period, from the change to the period end,
/// over the period's length: a 31-day month and a 28- or 29-day month give different fractions, and a change at any time of
/// day is priced without choosing which day it belongs to.</para>
/// <para>An immediate or next-invoice change gives two lines: a credit for the unused time on the old price
/// (−old unit × old quantity × fraction) and a charge for the remaining time on the new price (new unit × new quantity ×
/// fraction), each rounded on its own to the currency's minor unit, half away from zero.</para>
/// <para>Upgrade or downgrade is decided on the monthly-normalised amount × quantity. Upgrades default to
/// <see cref="ProrationBehavior.Immediate"/>, everything else to <see cref="ProrationBehavior.AtPeriodEnd"/>.
/// A change of billing interval only happens at period end, since the current period would no longer fit the new price.
/// During a trial nothing was paid, so the plan changes at once with no lines.</para>
/// </remarks>
public sealed class Proration(BillingCalendar calendar)
{
    public PlanChangeQuote Quote(BillableSubscription subscription, BillablePrice newPrice, int newQuantity, DateTimeOffset at,
        ProrationBehavior? requested = null)
    {
        EnsureChangeable(subscription, newPrice, newQuantity, at);
        var isUpgrade = newPrice.MonthlyAmount(newQuantity) > subscription.Price.MonthlyAmount(subscription.Quantity);
        var behavior = ChooseBehavior(subscription, newPrice, isUpgrade, requested);
        var lines = behavior == ProrationBehavior.AtPeriodEnd || subscription.Status == SubscriptionStatus.Trialing
            ? []
            : ProrationLines(subscription, newPrice, newQuantity, at);
        var net = lines.Aggregate(Money.Zero(subscription.Currency), (sum, line) => sum + line.Amount);
        var effectiveAt = behavior == ProrationBehavior.AtPeriodEnd ? subscription.CurrentPeriodEnd : at;
        return new PlanChangeQuote(subscription.SubscriptionId, subscription.Price, subscription.Quantity, newPrice, newQuantity,
            isUpgrade, behavior, at, effectiveAt, lines, net);
    }

    /// <summary>
    /// <paramref name="fullPeriodAmount"/> × (seconds from <paramref name="from"/> to the period end) / (seconds in the period),
    /// rounded to the minor unit half away from zero.
    /// </summary>
    public static Money Remaining(Money fullPeriodAmount, DateTimeOffset periodStart, DateTimeOffset periodEnd, DateTimeOffset from)
    {
        if (from < periodStart || from > periodEnd) throw new ArgumentOutOfRangeException(nameof(from), "The change must fall within the period.");
        var periodSeconds = WholeSeconds(periodEnd - periodStart);
        if (periodSeconds <= 0) throw new ArgumentException("A period must last at least a second.", nameof(periodEnd));
        // Multiply before dividing so the fraction is never rounded on its own.
        return new Money(fullPeriodAmount.Amount * WholeSeconds(periodEnd - from) / periodSeconds, fullPeriodAmount.Currency).Rounded();
    }

    private static long WholeSeconds(TimeSpan span) => span.Ticks / TimeSpan.TicksPerSecond;

    private IReadOnlyList<InvoiceLineDraft> ProrationLines(BillableSubscription subscription, BillablePrice newPrice, int newQuantity, DateTimeOffset at)
    {
        var (start, end) = (subscription.CurrentPeriodStart, subscription.CurrentPeriodEnd);
        var after = calendar.FormatDate(at);
        var oldPrice = subscription.Price;
        var credit = Remaining(oldPrice.UnitAmount * subscription.Quantity, start, end, at);
        var charge = Remaining(newPrice.UnitAmount * newQuantity, start, end, at);
        return
        [
            new InvoiceLineDraft(InvoiceLineKind.ProrationCredit, $"Unused time on {oldPrice.PlanName} after {after}",
                subscription.Quantity, oldPrice.UnitAmount, -credit, at, end, oldPrice.PriceId),
            new InvoiceLineDraft(InvoiceLineKind.ProrationCharge, $"Remaining time on {newPrice.PlanName} after {after}",
                newQuantity, newPrice.UnitAmount, charge, at, end, newPrice.PriceId),
        ];
    }

    private static ProrationBehavior ChooseBehavior(BillableSubscription subscription, BillablePrice newPrice, bool isUpgrade, ProrationBehavior? requested)
    {
        if (subscription.Status == SubscriptionStatus.Trialing) return ProrationBehavior.Immediate;
        if (newPrice.Interval != subscription.Price.Interval)
        {
            if (requested is null or ProrationBehavior.AtPeriodEnd) return ProrationBehavior.AtPeriodEnd;
            throw new DomainRuleException("A change of billing interval takes effect at the end of the current period.");
        }
        return requested ?? (isUpgrade ? ProrationBehavior.Immediate : ProrationBehavior.AtPeriodEnd);
    }

    private static void EnsureChangeable(BillableSubscription subscription, BillablePrice newPrice, int newQuantity, DateTimeOffset at)
    {
        if (newQuantity < 1) throw new DomainRuleException("Quantity must be at least 1.");
        if (!subscription.IsBillable)
            throw new DomainRuleException($"The plan of a {subscription.Status.ToSnakeCase()} subscription cannot be changed.");
        if (subscription.PlanChangesBlocked) throw new DomainRuleException(Subscription.PlanChangesBlockedReason);
        if (newPrice.Currency != subscription.Currency)
            throw new DomainRuleException($"The new price is in {newPrice.Currency}; the subscription bills in {subscription.Currency}.");
        if (newPrice.PriceId == subscription.Price.PriceId && newQuantity == subscription.Quantity)
            throw new DomainRuleException("The subscription is already on this price and quantity.");
        if (at < subscription.CurrentPeriodStart || at >= subscription.CurrentPeriodEnd)
            throw new DomainRuleException("A plan change must fall within the current period.");
    }
}
