using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Persistence;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// Coupons and the discounts made by redeeming them (docs/catalog.md). A discount takes its coupon's terms off the recurring
/// charge of each invoice whose period starts inside its window; the invoice shows it as a line and the ledger records it
/// as contra-revenue (<see cref="LedgerPostings.InvoiceIssued"/>).
/// </summary>
public sealed class CouponCommands(
    BillingDbContext db,
    AuditTrail audit,
    BillingCalendar calendar,
    TimeProvider clock,
    IValidator<CreateCoupon> createValidator,
    IValidator<ApplyCoupon> applyValidator)
{
    public async Task<IReadOnlyList<CouponView>> ListAsync(CancellationToken ct) =>
        [.. (await db.Coupons.AsNoTracking().OrderByDescending(c => c.CreatedAt).ToListAsync(ct)).Select(CouponView.From)];

    public async Task<CouponView> CreateAsync(CreateCoupon command, Actor actor, string reason, CancellationToken ct)
    {
        await createValidator.ValidateAndThrowAsync(command, ct);
        var code = command.Code!.Trim();
        if (await db.Coupons.AnyAsync(c => c.Code == code, ct)) throw new DomainRuleException($"A coupon with the code {code} already exists.");
        var now = clock.GetStoredNow();
        if (command.RedeemBy is { } redeemBy && redeemBy <= now) throw new DomainRuleException("The redeem-by date must be in the future.");
        var coupon = new Coupon(code, command.Name!, command.PercentOff,
            command.AmountOff is { } off ? new Money(off, command.Currency!.ToUpperInvariant()) : null,
            EnumNames.TryParseSnakeCase<CouponDuration>(command.Duration, out var duration) ? duration : CouponDuration.Once,
            command.DurationMonths, command.MaxRedemptions, command.RedeemBy is { } at ? StoredTime.Truncate(at) : null, now);
        db.Coupons.Add(coupon);
        var view = CouponView.From(coupon);
        audit.Record(actor, "coupon.created", "coupon", coupon.Id, reason, after: view);
        await db.SaveChangesAsync(ct);
        return view;
    }

    /// <summary>Redeems a coupon for a subscription from its next invoice on; replaces a discount it already had.</summary>
    public async Task<DiscountView> ApplyToSubscriptionAsync(Guid subscriptionId, ApplyCoupon command, Actor actor, string reason, CancellationToken ct)
    {
        await applyValidator.ValidateAndThrowAsync(command, ct);
        return await db.InTransactionAsync(async () =>
        {
            var customerId = await db.Subscriptions.Where(s => s.Id == subscriptionId).Select(s => (Guid?)s.CustomerId).SingleOrDefaultAsync(ct)
                             ?? throw new ResourceNotFoundException("subscription", subscriptionId);
            await db.LockCustomerAsync(customerId, ct);
            var subscription = await db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == subscriptionId, ct);
            if (subscription.Status == SubscriptionStatus.Canceled) throw new DomainRuleException("A canceled subscription cannot take a coupon.");
            var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Id == customerId, ct);
            var view = await RedeemAsync(command.CouponCode!, customer, subscriptionId, subscription.CurrentPeriodEnd, ct);
            audit.Record(actor, "coupon.applied", "subscription", subscriptionId, reason, after: view);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);
    }

    /// <summary>Redeems a coupon for every subscription of a customer, for the invoices of periods starting from now.</summary>
    public async Task<DiscountView> ApplyToCustomerAsync(Guid customerId, ApplyCoupon command, Actor actor, string reason, CancellationToken ct)
    {
        await applyValidator.ValidateAndThrowAsync(command, ct);
        return await db.InTransactionAsync(async () =>
        {
            if (!await db.Customers.AnyAsync(c => c.Id == customerId, ct)) throw new ResourceNotFoundException("customer", customerId);
            await db.LockCustomerAsync(customerId, ct);
            var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Id == customerId, ct);
            var view = await RedeemAsync(command.CouponCode!, customer, null, clock.GetStoredNow(), ct);
            audit.Record(actor, "coupon.applied", "customer", customerId, reason, after: view);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);
    }

    /// <summary>
    /// Counts a redemption and adds the discount (saved with the caller's unit of work, under the customer's lock), covering
    /// the period starts from <paramref name="startsAt"/> for as many months as the coupon lasts. The discount it replaces ends then.
    /// </summary>
    internal async Task<DiscountView> RedeemAsync(string couponCode, Customer customer, Guid? subscriptionId, DateTimeOffset startsAt, CancellationToken ct)
    {
        var code = couponCode.Trim();
        var coupon = await db.Coupons.SingleOrDefaultAsync(c => c.Code == code, ct)
                     ?? throw new DomainRuleException($"No coupon has the code {code}.");
        coupon.Redeem(customer.Currency, clock.GetStoredNow());
        var replaced = await db.Discounts.Where(d => d.CustomerId == customer.Id && d.SubscriptionId == subscriptionId).ToListAsync(ct);
        foreach (var previous in replaced) previous.EndAt(startsAt);
        var discount = new Discount(coupon, customer.Id, subscriptionId, startsAt,
            coupon.MonthsCovered is { } months ? calendar.MonthsLater(startsAt, months) : null, clock.GetStoredNow());
        db.Discounts.Add(discount);
        return DiscountView.From(discount, coupon);
    }
}
