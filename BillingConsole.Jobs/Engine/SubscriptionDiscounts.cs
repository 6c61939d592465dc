using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine;

/// <summary>Reads the discounts that may reduce subscriptions' invoices: one query for any number of subscriptions.</summary>
public static class SubscriptionDiscounts
{
    /// <returns>
    /// By subscription id, its own discounts then its customer's, newest first: the order
    /// <see cref="BillableSubscription.DiscountOn"/> reads. Subscriptions without any are left out.
    /// </returns>
    public static async Task<Dictionary<Guid, IReadOnlyList<AppliedDiscount>>> ForAsync(BillingDbContext db,
        IReadOnlyCollection<(Guid SubscriptionId, Guid CustomerId)> subscriptions, CancellationToken ct)
    {
        var customerIds = subscriptions.Select(s => s.CustomerId).Distinct().ToArray();
        var rows = await db.Discounts.AsNoTracking()
            .Where(d => customerIds.Contains(d.CustomerId))
            .Join(db.Coupons.AsNoTracking(), d => d.CouponId, c => c.Id, (d, c) => new { Discount = d, Coupon = c })
            .ToListAsync(ct);
        if (rows.Count == 0) return [];
        var byCustomer = rows.ToLookup(r => r.Discount.CustomerId);
        return subscriptions
            .Select(s => (s.SubscriptionId, Discounts: (IReadOnlyList<AppliedDiscount>)[.. byCustomer[s.CustomerId]
                .Where(r => r.Discount.SubscriptionId is null || r.Discount.SubscriptionId == s.SubscriptionId)
                .OrderBy(r => r.Discount.SubscriptionId is null).ThenByDescending(r => r.Discount.CreatedAt).ThenByDescending(r => r.Discount.Id)
                .Select(r => AppliedDiscount.From(r.Discount, r.Coupon))]))
            .Where(s => s.Discounts.Count > 0)
            .ToDictionary(s => s.SubscriptionId, s => s.Discounts);
    }
}
