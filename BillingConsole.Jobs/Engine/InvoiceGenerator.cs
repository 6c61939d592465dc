using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Subscriptions;

namespace BillingConsole.Engine;

/// <summary>What the billing cycle does with a subscription at a target date.</summary>
public enum RenewalDecision
{
    /// <summary>The current period has not ended yet.</summary>
    NotDue,
    /// <summary>Paused, canceled or unpaid: nothing is billed.</summary>
    NotBillable,
    /// <summary>Invoice the coming period in advance, then advance the subscription.</summary>
    Renew,
    /// <summary>Cancellation was scheduled for this period end: cancel instead of renewing.</summary>
    Cancel,
}

/// <summary>
/// An invoice as calculated, before it is written. Every amount is in <see cref="Currency"/>.
/// </summary>
/// <param name="Tax">round(max(subtotal, 0) × rate): credits beyond the charges carry no (negative) tax.</param>
/// <param name="CreditApplied">min(credit balance, max(total, 0)).</param>
/// <param name="AmountDue">What the customer must still pay: total − credit applied, never negative.</param>
/// <param name="CreditGranted">When the total is negative, what the customer is owed, added to their credit balance.</param>
/// <param name="CreditRemaining">The customer's credit balance once this invoice is issued.</param>
public sealed record GeneratedInvoice(
    Guid CustomerId,
    Guid? SubscriptionId,
    InvoiceKind Kind,
    string Currency,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    IReadOnlyList<InvoiceLineDraft> Lines,
    decimal TaxRate,
    Money Subtotal,
    Money Tax,
    Money Total,
    Money CreditApplied,
    Money AmountDue,
    Money CreditGranted,
    Money CreditRemaining)
{
    /// <summary>Adds up lines, tax and credit. The one place invoice totals are computed.</summary>
    public static GeneratedInvoice Create(Guid customerId, Guid? subscriptionId, InvoiceKind kind, string currency,
        DateTimeOffset periodStart, DateTimeOffset periodEnd, IReadOnlyList<InvoiceLineDraft> lines, Money creditBalance, decimal taxRate)
    {
        if (taxRate is < 0m or > 1m) throw new ArgumentOutOfRangeException(nameof(taxRate), taxRate, "A tax rate is between 0 and 1.");
        if (creditBalance.IsNegative) throw new ArgumentOutOfRangeException(nameof(creditBalance), "A credit balance is never negative.");
        var zero = Money.Zero(currency);
        var subtotal = lines.Aggregate(zero, (sum, line) => sum + line.Amount);
        var tax = (Money.Max(subtotal, zero) * taxRate).Rounded();
        var total = subtotal + tax;
        var creditApplied = Money.Min(creditBalance, Money.Max(total, zero));
        var creditGranted = Money.Max(-total, zero);
        return new GeneratedInvoice(customerId, subscriptionId, kind, zero.Currency, periodStart, periodEnd, lines, taxRate,
            subtotal, tax, total, creditApplied, Money.Max(total - creditApplied, zero), creditGranted,
            creditBalance - creditApplied + creditGranted);
    }

    /// <summary>The draft invoice to write; finalize it to issue it.</summary>
    public Invoice ToInvoice(DateTimeOffset createdAt, Guid? billingRunId = null) =>
        new(CustomerId, SubscriptionId, Kind, Currency, PeriodStart, PeriodEnd, Lines.Select(line => line.ToLine()), Tax, CreditApplied,
            createdAt, billingRunId);
}

/// <summary>
/// Invoice generation as a pure function of a subscription snapshot, its pending lines, the customer's credit,
/// a tax rate and a target date, in the manner of Kill Bill's InvoiceGenerator. The same code serves the billing run
/// and <see cref="PreviewNextInvoice"/>; nothing here writes or reads the clock.
/// </summary>
/// <remarks>
/// <para>Subscriptions are billed in advance. When the current period has ended by the target date the subscription renews:
/// the invoice covers [period end, next anchor date) at the price in force then, so a scheduled downgrade is billed
/// at its new price. Lines carried from a next-invoice plan change are added to it.</para>
/// <para>A period end that is not on the anchor day (a row written by something other than this engine) renews to the next
/// anchor date as a stub, prorated against the whole period that ends there (docs/proration.md, "Stub periods"), so no
/// renewal is ever longer than one interval nor billed as one when it is shorter.</para>
/// <para>A trial's period ends with the trial, so a trial ending produces the first paid invoice.</para>
/// <para>Cancel-at-period-end produces no renewal: the subscription cancels. Lines still carried are invoiced on their own,
/// so money owed for a plan change is not lost.</para>
/// <para>Paused, canceled and unpaid subscriptions produce nothing.</para>
/// <para>One call bills one period. A run that fell behind calls again after advancing the subscription.</para>
/// </remarks>
public sealed class InvoiceGenerator(BillingCalendar calendar)
{
    public static RenewalDecision Decide(BillableSubscription subscription, DateTimeOffset targetDate)
    {
        if (!subscription.IsBillable) return RenewalDecision.NotBillable;
        if (targetDate < subscription.CurrentPeriodEnd) return RenewalDecision.NotDue;
        return subscription.CancelAtPeriodEnd ? RenewalDecision.Cancel : RenewalDecision.Renew;
    }

    /// <summary>The invoice due by <paramref name="targetDate"/>, or null when nothing is due.</summary>
    public GeneratedInvoice? Generate(BillableSubscription subscription, IReadOnlyList<InvoiceLineDraft> pendingLines, Money creditBalance,
        decimal taxRate, DateTimeOffset targetDate)
    {
        return Decide(subscription, targetDate) switch
        {
            RenewalDecision.Renew => Renewal(subscription, pendingLines, creditBalance, taxRate),
            RenewalDecision.Cancel when pendingLines.Count > 0 => PlanChangeInvoice(subscription, pendingLines, creditBalance, taxRate),
            _ => null,
        };
    }

    /// <summary>
    /// The invoice the subscription will get when its period ends, as it stands now: a dry run of <see cref="Generate"/>.
    /// </summary>
    public GeneratedInvoice? PreviewNextInvoice(BillableSubscription subscription, IReadOnlyList<InvoiceLineDraft> pendingLines,
        Money creditBalance, decimal taxRate) =>
        Generate(subscription, pendingLines, creditBalance, taxRate, subscription.CurrentPeriodEnd);

    /// <summary>The invoice of an immediate plan change; null when the quote has nothing to invoice now.</summary>
    public static GeneratedInvoice? ForPlanChange(BillableSubscription subscription, PlanChangeQuote quote, Money creditBalance, decimal taxRate)
    {
        if (quote.SubscriptionId != subscription.SubscriptionId) throw new ArgumentException("The quote is for another subscription.", nameof(quote));
        return quote.Behavior == ProrationBehavior.Immediate && quote.Lines.Count > 0
            ? PlanChangeInvoice(subscription, quote.Lines, creditBalance, taxRate)
            : null;
    }

    /// <summary>
    /// The invoice of a period that starts now and was not billed by a renewal: a new subscription's first period (no trial),
    /// or the period a subscription restarts with when resumed. Billed in advance, at the current price, like a renewal.
    /// </summary>
    public GeneratedInvoice FirstPeriod(BillableSubscription subscription, IReadOnlyList<InvoiceLineDraft> pendingLines, Money creditBalance,
        decimal taxRate)
    {
        if (subscription.Status != SubscriptionStatus.Active) throw new DomainRuleException("Only an active subscription's period is invoiced when it starts.");
        return CycleInvoice(subscription,
            RecurringLine(subscription.Price, subscription.Quantity, subscription.CurrentPeriodStart, subscription.CurrentPeriodEnd),
            pendingLines, creditBalance, taxRate);
    }

    /// <summary>The final invoice of a subscription that ends with proration lines still waiting for a next invoice.</summary>
    public static GeneratedInvoice ForWaitingLines(BillableSubscription subscription, IReadOnlyList<InvoiceLineDraft> pendingLines,
        Money creditBalance, decimal taxRate)
    {
        if (pendingLines.Count == 0) throw new ArgumentException("There are no waiting lines to invoice.", nameof(pendingLines));
        return PlanChangeInvoice(subscription, pendingLines, creditBalance, taxRate);
    }

    private GeneratedInvoice Renewal(BillableSubscription subscription, IReadOnlyList<InvoiceLineDraft> pendingLines, Money creditBalance,
        decimal taxRate)
    {
        var (price, quantity) = subscription.PendingChange is { } pending
            ? (pending.Price, pending.Quantity)
            : (subscription.Price, subscription.Quantity);
        // The stored period end is not trusted to be an anchor date: the renewal runs to the next one, and a stub shorter
        // than the whole period ending there is billed in proportion to its length.
        var start = subscription.CurrentPeriodEnd;
        var anchorDay = subscription.BillingAnchorDay;
        var end = calendar.NextAnchorDate(start, price.Interval, anchorDay);
        var line = calendar.IsAnchorDate(start, anchorDay)
            ? RecurringLine(price, quantity, start, end)
            : StubLine(price, quantity, calendar.PreviousPeriodStart(end, price.Interval, anchorDay), start, end);
        return CycleInvoice(subscription, line, pendingLines, creditBalance, taxRate);
    }

    /// <summary>A period's invoice: its charge, the discount on that charge when one covers the period's start, then the carried lines.</summary>
    private static GeneratedInvoice CycleInvoice(BillableSubscription subscription, InvoiceLineDraft periodLine,
        IReadOnlyList<InvoiceLineDraft> pendingLines, Money creditBalance, decimal taxRate) =>
        GeneratedInvoice.Create(subscription.CustomerId, subscription.SubscriptionId, InvoiceKind.SubscriptionCycle,
            subscription.Currency, periodLine.PeriodStart, periodLine.PeriodEnd,
            [periodLine, .. DiscountLine(subscription.DiscountOn(periodLine.PeriodStart), periodLine), .. pendingLines], creditBalance, taxRate);

    private static IEnumerable<InvoiceLineDraft> DiscountLine(AppliedDiscount? discount, InvoiceLineDraft periodLine)
    {
        if (discount is null) yield break;
        var off = discount.AmountOf(periodLine.Amount);
        if (!off.IsPositive) yield break;
        yield return new InvoiceLineDraft(InvoiceLineKind.Discount, $"Discount: {discount.CouponName}", 1, -off, -off,
            periodLine.PeriodStart, periodLine.PeriodEnd, null);
    }

    private InvoiceLineDraft RecurringLine(BillablePrice price, int quantity, DateTimeOffset start, DateTimeOffset end) =>
        new(InvoiceLineKind.Recurring, $"{price.PlanName} ({calendar.FormatDate(start)} – {calendar.FormatDate(end)})",
            quantity, price.UnitAmount, (price.UnitAmount * quantity).Rounded(), start, end, price.PriceId);

    /// <summary>
    /// The part [<paramref name="start"/>, <paramref name="end"/>) of the whole period that begins at
    /// <paramref name="wholePeriodStart"/>, priced by <see cref="Proration.Remaining"/> like the rest of a period after a plan change.
    /// </summary>
    private InvoiceLineDraft StubLine(BillablePrice price, int quantity, DateTimeOffset wholePeriodStart, DateTimeOffset start, DateTimeOffset end)
    {
        var amount = Proration.Remaining(price.UnitAmount * quantity, wholePeriodStart, end, start);
        var days = calendar.LocalDate(end).DayNumber - calendar.LocalDate(start).DayNumber;
        var wholeDays = calendar.LocalDate(end).DayNumber - calendar.LocalDate(wholePeriodStart).DayNumber;
        return new InvoiceLineDraft(InvoiceLineKind.ProrationCharge,
            $"{price.PlanName} ({calendar.FormatDate(start)} – {calendar.FormatDate(end)}), prorated, {days} of {wholeDays} days",
            quantity, price.UnitAmount, amount, start, end, price.PriceId);
    }

    private static GeneratedInvoice PlanChangeInvoice(BillableSubscription subscription, IReadOnlyList<InvoiceLineDraft> lines,
        Money creditBalance, decimal taxRate) =>
        GeneratedInvoice.Create(subscription.CustomerId, subscription.SubscriptionId, InvoiceKind.PlanChange, subscription.Currency,
            lines.Min(line => line.PeriodStart), lines.Max(line => line.PeriodEnd), lines, creditBalance, taxRate);
}
