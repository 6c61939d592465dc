using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Persistence;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// A subscription's life through the engine: start (with a trial or a first invoice), plan changes priced by
/// <see cref="Proration"/>, cancel, pause and resume, and the previews that run the same code without writing.
/// Invoices issued here stay open: charging them is the payment processor's work.
/// </summary>
public sealed class SubscriptionCommands(
    BillingDbContext db,
    BillingCalendar calendar,
    InvoiceGenerator generator,
    Proration proration,
    InvoiceIssuer issuer,
    AuditTrail audit,
    TimeProvider clock,
    CouponCommands coupons,
    CustomerTaxes taxes,
    IValidator<CreateSubscription> createValidator,
    IValidator<ChangePlan> changeValidator,
    IValidator<CancelSubscription> cancelValidator)
{
    public async Task<SubscriptionChangeView> CreateAsync(CreateSubscription command, Actor actor, string reason, CancellationToken ct)
    {
        await createValidator.ValidateAndThrowAsync(command, ct);
        return await db.InTransactionAsync(async () =>
        {
            var customerId = command.CustomerId!.Value;
            if (!await db.Customers.AnyAsync(c => c.Id == customerId, ct)) throw new ResourceNotFoundException("customer", customerId);
            await db.LockCustomerAsync(customerId, ct);
            var customer = await db.Customers.SingleAsync(c => c.Id == customerId, ct);
            var price = await SubscribablePriceAsync(command.PriceId!.Value, ct);
            if (price.Currency != customer.Currency)
                throw new DomainRuleException($"The price is in {price.Currency}; the customer is billed in {customer.Currency}.");

            var now = clock.GetStoredNow();
            var trialEnd = calendar.TrialEnd(now, command.TrialDays ?? price.TrialDays);
            // A trial's end anchors the periods that follow it (docs/invoicing.md).
            var anchorDay = calendar.AnchorDayOf(trialEnd ?? now);
            var periodEnd = trialEnd ?? calendar.NextPeriodEnd(now, price.Price.Interval, anchorDay);
            var subscription = new Subscription(customer.Id, price.Price.PriceId, command.Quantity!.Value, now, periodEnd, trialEnd, anchorDay);
            db.Subscriptions.Add(subscription);
            // From the first paid period: the trial's end, or now. Saved first, so that the first invoice reads it like any discount.
            var discount = command.CouponCode is { } couponCode ? await coupons.RedeemAsync(couponCode, customer, subscription.Id, trialEnd ?? now, ct) : null;
            if (discount is not null) await db.SaveChangesAsync(ct);
            var invoice = trialEnd is null ? await IssueFirstPeriodAsync(customer, subscription, price.Price, ct) : null;

            var view = new SubscriptionChangeView(SubscriptionView.From(subscription), invoice, discount);
            audit.Record(actor, "subscription.created", "subscription", subscription.Id, reason, after: view.Subscription);
            if (discount is not null) audit.Record(actor, "coupon.applied", "subscription", subscription.Id, reason, after: discount);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);
    }

    /// <summary>What <see cref="ChangePlanAsync"/> would do now, written nowhere.</summary>
    public async Task<PlanChangeView> PreviewChangeAsync(Guid subscriptionId, ChangePlan command, CancellationToken ct)
    {
        await changeValidator.ValidateAndThrowAsync(command, ct);
        var change = await QuoteAsync(subscriptionId, command, ct);
        return new PlanChangeView(PlanChangeQuoteView.From(change.Quote), change.Invoice is null ? null : InvoiceView.Preview(change.Invoice),
            SubscriptionView.From(change.Subscription));
    }

    /// <summary>
    /// Changes price or quantity: now with a plan-change invoice (immediate), now with the proration lines waiting for the
    /// next cycle invoice (next invoice), or at the period end (docs/proration.md).
    /// </summary>
    public async Task<PlanChangeView> ChangePlanAsync(Guid subscriptionId, ChangePlan command, Actor actor, string reason, CancellationToken ct)
    {
        await changeValidator.ValidateAndThrowAsync(command, ct);
        return await db.InTransactionAsync(async () =>
        {
            var customerId = await CustomerOfAsync(subscriptionId, ct);
            await db.LockCustomerAsync(customerId, ct);
            var change = await QuoteAsync(subscriptionId, command, ct);
            var before = SubscriptionView.From(change.Subscription);
            change.Quote.ApplyTo(change.Subscription);
            if (change.Quote.Behavior == ProrationBehavior.NextInvoice)
                db.PendingInvoiceLines.AddRange(change.Quote.Lines.Select((line, position) =>
                    new PendingInvoiceLine(subscriptionId, customerId, line.ToLine(), position, change.Quote.QuotedAt)));
            var invoice = change.Invoice is null ? null : await issuer.IssueAsync(change.Customer, change.Invoice, null, ct);
            var view = new PlanChangeView(PlanChangeQuoteView.From(change.Quote), invoice is null ? null : InvoiceView.From(invoice),
                SubscriptionView.From(change.Subscription));
            audit.Record(actor, "subscription.plan_changed", "subscription", subscriptionId, reason, before, view.Subscription);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);
    }

    /// <summary>
    /// Cancels now or at the period end. Proration lines still waiting for the next invoice are invoiced at once when the
    /// subscription ends now: there will be no next invoice to carry them.
    /// </summary>
    public async Task<SubscriptionView> CancelAsync(Guid subscriptionId, CancelSubscription command, Actor actor, string reason, CancellationToken ct)
    {
        await cancelValidator.ValidateAndThrowAsync(command, ct);
        if (command.When != CancelWhen.Now)
            return await ChangeAsync(subscriptionId, "subscription.canceled", actor, reason, subscription => subscription.ScheduleCancellation(), ct);

        return await db.InTransactionAsync(async () =>
        {
            var customerId = await CustomerOfAsync(subscriptionId, ct);
            await db.LockCustomerAsync(customerId, ct);
            var subscription = await db.Subscriptions.SingleAsync(s => s.Id == subscriptionId, ct);
            var before = SubscriptionView.From(subscription);
            subscription.Cancel(clock.GetStoredNow(), CancellationKind.Voluntary);
            var waiting = await WaitingLinesAsync(subscriptionId, ct);
            if (waiting.Count > 0)
            {
                var customer = await db.Customers.SingleAsync(c => c.Id == customerId, ct);
                var final = InvoiceGenerator.ForWaitingLines(await SnapshotAsync(subscription, ct), Drafts(waiting), customer.CreditBalance, await taxes.ForAsync(customer, ct));
                var invoice = await issuer.IssueAsync(customer, final, null, ct);
                foreach (var line in waiting) line.MarkInvoiced(invoice.Id);
            }
            var after = SubscriptionView.From(subscription);
            audit.Record(actor, "subscription.canceled", "subscription", subscriptionId, reason, before, after);
            await db.SaveChangesAsync(ct);
            return after;
        }, ct);
    }

    public Task<SubscriptionView> PauseAsync(Guid subscriptionId, Actor actor, string reason, CancellationToken ct) =>
        ChangeAsync(subscriptionId, "subscription.paused", actor, reason, subscription => subscription.Pause(clock.GetStoredNow()), ct);

    /// <summary>
    /// Resumes a paused subscription. If its period ended during the pause, a new period starts now and is invoiced now,
    /// as for a new subscription: the paused time is not billed.
    /// </summary>
    public async Task<SubscriptionChangeView> ResumeAsync(Guid subscriptionId, Actor actor, string reason, CancellationToken ct) =>
        await db.InTransactionAsync(async () =>
        {
            var customerId = await CustomerOfAsync(subscriptionId, ct);
            await db.LockCustomerAsync(customerId, ct);
            var subscription = await db.Subscriptions.SingleAsync(s => s.Id == subscriptionId, ct);
            var before = SubscriptionView.From(subscription);
            var now = clock.GetStoredNow();
            InvoiceView? invoice = null;
            if (subscription.Status == SubscriptionStatus.Paused && subscription.CurrentPeriodEnd <= now)
            {
                var price = await BillablePriceAsync(subscription.PendingPriceId ?? subscription.PriceId, ct);
                var anchorDay = calendar.AnchorDayOf(now);
                subscription.ResumeWithNewPeriod(now, calendar.NextPeriodEnd(now, price.Interval, anchorDay), anchorDay);
                var customer = await db.Customers.SingleAsync(c => c.Id == customerId, ct);
                invoice = await IssueFirstPeriodAsync(customer, subscription, price, ct, await WaitingLinesAsync(subscriptionId, ct));
            }
            else
            {
                subscription.Resume();
            }
            var view = new SubscriptionChangeView(SubscriptionView.From(subscription), invoice);
            audit.Record(actor, "subscription.resumed", "subscription", subscriptionId, reason, before, view.Subscription);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);

    /// <summary>
    /// The invoice the billing run will generate when the current period ends, as things stand: the same
    /// <see cref="InvoiceGenerator"/> call on the same snapshot. Null when nothing will be invoiced (paused, canceled,
    /// unpaid, or canceling at the period end).
    /// </summary>
    public async Task<InvoiceView?> UpcomingInvoiceAsync(Guid subscriptionId, CancellationToken ct)
    {
        var subscription = await db.Subscriptions.AsNoTracking().SingleOrDefaultAsync(s => s.Id == subscriptionId, ct)
                           ?? throw new ResourceNotFoundException("subscription", subscriptionId);
        var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Id == subscription.CustomerId, ct);
        var snapshot = await SnapshotAsync(subscription, ct);
        var waiting = await db.PendingInvoiceLines.AsNoTracking()
            .Where(l => l.SubscriptionId == subscriptionId && l.InvoiceId == null).OrderBy(l => l.CreatedAt).ThenBy(l => l.Position).ToListAsync(ct);
        var upcoming = generator.PreviewNextInvoice(snapshot, Drafts(waiting), customer.CreditBalance, await taxes.ForAsync(customer, ct));
        return upcoming is null ? null : InvoiceView.Preview(upcoming);
    }

    /// <summary>The engine's view of a stored subscription, with plan names and prices as billing reads them.</summary>
    public async Task<BillableSubscription> SnapshotAsync(Subscription subscription, CancellationToken ct)
    {
        var price = await BillablePriceAsync(subscription.PriceId, ct);
        var pending = subscription.PendingPriceId is { } pendingId ? await BillablePriceAsync(pendingId, ct) : null;
        return BillableSubscription.From(subscription, price, pending, await DiscountsAsync(subscription, ct));
    }

    private sealed record QuotedChange(Subscription Subscription, Customer Customer, PlanChangeQuote Quote, GeneratedInvoice? Invoice);

    private async Task<QuotedChange> QuoteAsync(Guid subscriptionId, ChangePlan command, CancellationToken ct)
    {
        var subscription = await db.Subscriptions.SingleOrDefaultAsync(s => s.Id == subscriptionId, ct)
                           ?? throw new ResourceNotFoundException("subscription", subscriptionId);
        var customer = await db.Customers.SingleAsync(c => c.Id == subscription.CustomerId, ct);
        var snapshot = await SnapshotAsync(subscription, ct);
        var newPrice = (await SubscribablePriceAsync(command.PriceId!.Value, ct)).Price;
        ProrationBehavior? behavior = EnumNames.TryParseSnakeCase<ProrationBehavior>(command.Behavior, out var parsed) ? parsed : null;
        var at = command.ProrationDate is { } requested ? StoredTime.Truncate(requested) : clock.GetStoredNow();
        var quote = proration.Quote(snapshot, newPrice, command.Quantity ?? subscription.Quantity, at, behavior);
        return new QuotedChange(subscription, customer, quote, InvoiceGenerator.ForPlanChange(snapshot, quote, customer.CreditBalance, await taxes.ForAsync(customer, ct)));
    }

    private async Task<InvoiceView> IssueFirstPeriodAsync(Customer customer, Subscription subscription, BillablePrice price, CancellationToken ct,
        IReadOnlyList<PendingInvoiceLine>? waiting = null)
    {
        waiting ??= [];
        var generated = generator.FirstPeriod(BillableSubscription.From(subscription, price, null, await DiscountsAsync(subscription, ct)),
            Drafts(waiting), customer.CreditBalance, await taxes.ForAsync(customer, ct));
        var invoice = await issuer.IssueAsync(customer, generated, null, ct);
        foreach (var line in waiting) line.MarkInvoiced(invoice.Id);
        return InvoiceView.From(invoice);
    }

    private async Task<IReadOnlyList<AppliedDiscount>?> DiscountsAsync(Subscription subscription, CancellationToken ct) =>
        (await SubscriptionDiscounts.ForAsync(db, [(subscription.Id, subscription.CustomerId)], ct)).GetValueOrDefault(subscription.Id);

    /// <summary>The subscription's proration lines waiting for its next invoice, tracked, oldest first.</summary>
    private async Task<List<PendingInvoiceLine>> WaitingLinesAsync(Guid subscriptionId, CancellationToken ct) =>
        await db.PendingInvoiceLines.Where(l => l.SubscriptionId == subscriptionId && l.InvoiceId == null)
            .OrderBy(l => l.CreatedAt).ThenBy(l => l.Position).ToListAsync(ct);

    private static InvoiceLineDraft[] Drafts(IEnumerable<PendingInvoiceLine> lines) => [.. lines.Select(InvoiceLineDraft.From)];

    private async Task<SubscriptionView> ChangeAsync(Guid subscriptionId, string action, Actor actor, string reason, Action<Subscription> change,
        CancellationToken ct) =>
        await db.InTransactionAsync(async () =>
        {
            var subscription = await db.Subscriptions.SingleOrDefaultAsync(s => s.Id == subscriptionId, ct)
                               ?? throw new ResourceNotFoundException("subscription", subscriptionId);
            var before = SubscriptionView.From(subscription);
            change(subscription);
            var after = SubscriptionView.From(subscription);
            audit.Record(actor, action, "subscription", subscriptionId, reason, before, after);
            await db.SaveChangesAsync(ct);
            return after;
        }, ct);

    private async Task<Guid> CustomerOfAsync(Guid subscriptionId, CancellationToken ct) =>
        await db.Subscriptions.Where(s => s.Id == subscriptionId).Select(s => (Guid?)s.CustomerId).SingleOrDefaultAsync(ct)
        ?? throw new ResourceNotFoundException("subscription", subscriptionId);

    private sealed record CatalogPrice(BillablePrice Price, string Currency, int TrialDays, bool Active);

    /// <summary>A price that can be subscribed to now: it exists (404 otherwise) and neither it nor its plan is archived.</summary>
    private async Task<CatalogPrice> SubscribablePriceAsync(Guid priceId, CancellationToken ct)
    {
        var price = await CatalogPriceAsync(priceId, ct);
        if (!price.Active) throw new DomainRuleException("This price is archived: subscriptions that have it keep it, but no new subscription or plan change can take it.");
        return price;
    }

    private async Task<BillablePrice> BillablePriceAsync(Guid priceId, CancellationToken ct) => (await CatalogPriceAsync(priceId, ct)).Price;

    private async Task<CatalogPrice> CatalogPriceAsync(Guid priceId, CancellationToken ct)
    {
        var row = await db.Prices.AsNoTracking()
            .Where(p => p.Id == priceId)
            .Join(db.Plans.AsNoTracking(), p => p.PlanId, plan => plan.Id, (p, plan) => new { Price = p, plan.Name, PlanActive = plan.Active })
            .SingleOrDefaultAsync(ct) ?? throw new ResourceNotFoundException("price", priceId);
        return new CatalogPrice(new BillablePrice(row.Price.Id, row.Name, row.Price.Amount, row.Price.Interval), row.Price.Currency,
            row.Price.TrialDays, row.Price.Active && row.PlanActive);
    }
}
