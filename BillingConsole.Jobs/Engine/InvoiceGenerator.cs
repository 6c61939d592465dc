using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Domain.Tax;

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
/// <param name="Lines">The lines, each with its tax (<see cref="InvoiceLineDraft.Tax"/>).</param>
/// <param name="Tax">Σ over the lines' rates of round(max(lines at that rate, 0) × rate), and 0 when the subtotal is not positive:
/// credits beyond the charges carry no (negative) tax.</param>
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
        DateTimeOffset periodStart, DateTimeOffset periodEnd, IReadOnlyList<InvoiceLineDraft> lines, Money creditBalance, InvoiceTax tax)
    {
        if (creditBalance.IsNegative) throw new ArgumentOutOfRangeException(nameof(creditBalance), "A credit balance is never negative.");
        var zero = Money.Zero(currency);
        var subtotal = lines.Aggregate(zero, (sum, line) => sum + line.Amount);
        var taxed = Taxed(lines, tax, subtotal.IsPositive, zero);
        var totalTax = taxed.Aggregate(zero, (sum, line) => sum + line.Tax!.Amount);
        var total = subtotal + totalTax;
        var creditApplied = Money.Min(creditBalance, Money.Max(total, zero));
        var creditGranted = Money.Max(-total, zero);
        return new GeneratedInvoice(customerId, subscriptionId, kind, zero.Currency, periodStart, periodEnd, taxed,
            subtotal, totalTax, total, creditApplied, Money.Max(total - creditApplied, zero), creditGranted,
            creditBalance - creditApplied + creditGranted);
    }

    /// <summary>
    /// Each line's rate and share of the tax. The lines at one rate owe round(max(their sum, 0) × rate), so an invoice at a
    /// single rate is taxed on its subtotal exactly as a whole; each line gets its own rounded share and the largest line of
    /// the rate takes the rounding difference, so the shares always add up to the tax.
    /// </summary>
    private static InvoiceLineDraft[] Taxed(IReadOnlyList<InvoiceLineDraft> lines, InvoiceTax tax, bool taxable, Money zero)
    {
        var rules = lines.Select(line => tax.At(line.PeriodStart)).ToArray();
        var taxed = lines.Select((line, i) => line with
        {
            Tax = new InvoiceLineTax(tax.Payer.Country, tax.Payer.Region, rules[i].Rate,
                taxable ? (line.Amount * rules[i].Rate).Rounded() : zero, rules[i].ReverseCharge),
        }).ToArray();
        if (!taxable) return taxed;
        foreach (var atRate in Enumerable.Range(0, lines.Count).GroupBy(i => rules[i].Rate))
        {
            var owed = (Money.Max(atRate.Aggregate(zero, (sum, i) => sum + lines[i].Amount), zero) * atRate.Key).Rounded();
            var shared = atRate.Aggregate(zero, (sum, i) => sum + taxed[i].Tax!.Amount);
            if (owed == shared) continue;
            var largest = atRate.MaxBy(i => Math.Abs(lines[i].Amount.Amount));
            taxed[largest] = taxed[largest] with { Tax = taxed[largest].Tax! with { Amount = taxed[largest].Tax!.Amount + owed - shared } };
        }
        return taxed;
    }

    /// <summary>The draft invoice to write; finalize it to issue it.</summary>
    public Invoice ToInvoice(DateTimeOffset createdAt, Guid? billingRunId = null) =>
        new(CustomerId, SubscriptionId, Kind, Currency, PeriodStart, PeriodEnd, Lines.Select(line => line.ToLine()), Tax, CreditApplied,
            createdAt, billingRunId);
}

/// <summary>
/// Invoice generation as a pure function of a subscription snapshot, its pending lines, the customer's credit,
/// the customer's tax and a target date, in the manner of Kill Bill's InvoiceGenerator. The same code serves the billing run
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
        InvoiceTax tax, DateTimeOffset targetDate)
    {
        return Decide(subscription, targetDate) switch
        {
            RenewalDecision.Renew => Renewal(subscription, pendingLines, creditBalance, tax),
            RenewalDecision.Cancel when pendingLines.Count > 0 => PlanChangeInvoice(subscription, pendingLines, creditBalance, tax),
            _ => null,
        };
    }

    /// <summary>
    /// The invoice the subscription will get when its period ends, as it stands now: a dry run of <see cref="Generate"/>.
    /// </summary>
    public GeneratedInvoice? PreviewNextInvoice(BillableSubscription subscription, IReadOnlyList<InvoiceLineDraft> pendingLines,
        Money creditBalance, InvoiceTax tax) =>
        Generate(subscription, pendingLines, creditBalance, tax, subscription.CurrentPeriodEnd);

    /// <summary>The invoice of an immediate plan change; null when the quote has nothing to invoice now.</summary>
    public static GeneratedInvoice? ForPlanChange(BillableSubscription subscription, PlanChangeQuote quote, Money creditBalance, InvoiceTax tax)
    {
        if (quote.SubscriptionId != subscription.SubscriptionId) throw new ArgumentException("The quote is for another subscription.", nameof(quote));
        return quote.Behavior == ProrationBehavior.Immediate && quote.Lines.Count > 0
            ? PlanChangeInvoice(subscription, quote.Lines, creditBalance, tax)
            : null;
    }

    /// <summary>
    /// The invoice of a period that starts now and was not billed by a renewal: a new subscription's first period (no trial),
    /// or the period a subscription restarts with when resumed. Billed in advance, at the current price, like a renewal.
    /// </summary>
    public GeneratedInvoice FirstPeriod(BillableSubscription subscription, IReadOnlyList<InvoiceLineDraft> pendingLines, Money creditBalance,
        InvoiceTax tax)
    {
        if (subscription.Status != SubscriptionStatus.Active) throw new DomainRuleException("Only an active subscription's period is invoiced when it starts.");
        return CycleInvoice(subscription,
            RecurringLine(subscription.Price, subscription.Quantity, subscription.CurrentPeriodStart, subscription.CurrentPeriodEnd),
            pendingLines, creditBalance, tax);
    }

    /// <summary>The final invoice of a subscription that ends with proration lines still waiting for a next invoice.</summary>
    public static GeneratedInvoice ForWaitingLines(BillableSubscription subscription, IReadOnlyList<InvoiceLineDraft> pendingLines,
        Money creditBalance, InvoiceTax tax)
    {
        if (pendingLines.Count == 0) throw new ArgumentException("There are no waiting lines to invoice.", nameof(pendingLines));
        return PlanChangeInvoice(subscription, pendingLines, creditBalance, tax);
    }

    private GeneratedInvoice Renewal(BillableSubscription subscription, IReadOnlyList<InvoiceLineDraft> pendingLines, Money creditBalance,
        InvoiceTax tax)
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
        return CycleInvoice(subscription, line, pendingLines, creditBalance, tax);
    }

    /// <summary>A period's invoice: its charge, the discount on that charge when one covers the period's start, then the carried lines.</summary>
    private static GeneratedInvoice CycleInvoice(BillableSubscription subscription, InvoiceLineDraft periodLine,
        IReadOnlyList<InvoiceLineDraft> pendingLines, Money creditBalance, InvoiceTax tax) =>
        GeneratedInvoice.Create(subscription.CustomerId, subscription.SubscriptionId, InvoiceKind.SubscriptionCycle,
            subscription.Currency, periodLine.PeriodStart, periodLine.PeriodEnd,
            [periodLine, .. DiscountLine(subscription.DiscountOn(periodLine.PeriodStart), periodLine), .. pendingLines], creditBalance, tax);

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
        Money creditBalance, InvoiceTax tax) =>
        GeneratedInvoice.Create(subscription.CustomerId, subscription.SubscriptionId, InvoiceKind.PlanChange, subscription.Currency,
            lines.Min(line => line.PeriodStart), lines.Max(line => line.PeriodEnd), lines, creditBalance, tax);
}
