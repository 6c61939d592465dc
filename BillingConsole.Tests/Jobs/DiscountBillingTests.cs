using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Jobs;

/// <summary>
/// Coupons through the billing run: the run's set-based path puts the discount line on each renewal inside the coupon's
/// window and none after, the ledger records it as contra-revenue and balances, and MRR counts the discounted price.
/// </summary>
public sealed class DiscountBillingTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Agent = new("support@example.test", "support");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("discounts");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    private Task<CouponView> CouponAsync(CreateCoupon coupon) =>
        _engine.InScopeAsync<CouponCommands, CouponView>(c => c.CreateAsync(coupon, Agent, "launch offer", Ct));

    private async Task<decimal> RecordedMrrAsync(Guid subscriptionId)
    {
        await _engine.Get<MrrRecorder>().RecordAsync(_engine.Clock.GetUtcNow(), Ct);
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        return await connection.QuerySingleAsync<decimal>("select mrr from mrr_subscription_states where subscription_id = @subscriptionId", new { subscriptionId });
    }

    [Fact]
    public async Task A_repeating_coupon_discounts_the_renewals_in_its_window_as_contra_revenue_and_MRR_counts_the_discounted_price()
    {
        var (_, price) = await _data.PlanAsync(40m);
        var discounted = await _data.SubscriptionAsync(await _data.CustomerAsync(), price, quantity: 2);
        var untouched = await _data.SubscriptionAsync(await _data.CustomerAsync(), price);
        var coupon = await CouponAsync(new CreateCoupon("SPRING25", "Spring 25%", 25m, null, null, "repeating", 2, null, null));
        var discount = await _engine.InScopeAsync<CouponCommands, DiscountView>(c =>
            c.ApplyToSubscriptionAsync(discounted.Id, new ApplyCoupon(coupon.Code), Agent, "retention offer", Ct));
        Assert.Equal((discounted.CurrentPeriodEnd, discounted.CurrentPeriodEnd.AddMonths(2)), (discount.StartsAt, discount.EndsAt));
        Assert.Equal(60m, await RecordedMrrAsync(discounted.Id));

        // Three renewals: the two periods starting inside the two months are discounted, the third is not.
        var renewals = new List<Invoice>();
        for (var month = 0; month < 3; month++)
        {
            if (month > 0) _engine.Clock.Advance(TimeSpan.FromDays(31));
            await _engine.RunBillingAsync();
        }
        await using var db = _database.NewContext();
        renewals.AddRange(await db.Invoices.AsNoTracking().Include(i => i.Lines).Where(i => i.SubscriptionId == discounted.Id)
            .OrderBy(i => i.PeriodStart).ToListAsync(Ct));
        Assert.Equal([(80m, -20m, 60m), (80m, -20m, 60m), (80m, 0m, 80m)], renewals.Select(i =>
            (i.Lines.Single(l => l.Kind == InvoiceLineKind.Recurring).Amount.Amount, -i.Discount.Amount, i.Subtotal.Amount)));
        Assert.Equal("Discount: Spring 25%", renewals[0].Lines.Single(l => l.Kind == InvoiceLineKind.Discount).Description);
        var undiscounted = await db.Invoices.AsNoTracking().Include(i => i.Lines).Where(i => i.SubscriptionId == untouched.Id).ToListAsync(Ct);
        Assert.Equal(3, undiscounted.Count);
        Assert.All(undiscounted, i => Assert.Equal(40m, i.Subtotal.Amount));

        var discounts = await db.LedgerEntries.AsNoTracking().Where(e => e.Account == LedgerAccount.Discounts).ToListAsync(Ct);
        Assert.Equal(40m, discounts.Sum(e => e.Debit));
        Assert.Equal(240m, await db.LedgerEntries.AsNoTracking()
            .Where(e => e.Account == LedgerAccount.Revenue && e.CustomerId == discounted.CustomerId).SumAsync(e => e.Credit - e.Debit, Ct));
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        Assert.Equal(0, await connection.QuerySingleAsync<int>(
            "select count(*)::int from (select 1 from ledger_entries group by transaction_id having sum(debit) <> sum(credit)) u"));

        // The window has passed: the subscription counts its full price again.
        Assert.Equal(80m, await RecordedMrrAsync(discounted.Id));
    }

    [Fact]
    public async Task A_customer_coupon_covers_each_of_their_subscriptions_and_a_subscription_coupon_takes_precedence()
    {
        var (_, price) = await _data.PlanAsync(50m);
        var customer = await _data.CustomerAsync();
        // Periods that end tomorrow: both coupons are applied before the renewals they discount start.
        var first = await _data.SubscriptionAsync(customer, price, endedAgo: TimeSpan.FromDays(-1));
        var second = await _data.SubscriptionAsync(customer, price, endedAgo: TimeSpan.FromDays(-1));
        await CouponAsync(new CreateCoupon("TENOFF", "Ten off", null, 10m, "USD", "forever", null, 5, null));
        await CouponAsync(new CreateCoupon("HALF", "Half price", 50m, null, null, "once", null, null, null));
        await _engine.InScopeAsync<CouponCommands, DiscountView>(c => c.ApplyToCustomerAsync(customer.Id, new ApplyCoupon("TENOFF"), Agent, "loyalty", Ct));
        await _engine.InScopeAsync<CouponCommands, DiscountView>(c => c.ApplyToSubscriptionAsync(second.Id, new ApplyCoupon("HALF"), Agent, "complaint", Ct));
        // MRR counts the discount in force now: the customer's, until the subscription's own starts with its next period.
        Assert.Equal((40m, 40m), (await RecordedMrrAsync(first.Id), await RecordedMrrAsync(second.Id)));

        _engine.Clock.Advance(TimeSpan.FromDays(2));
        await _engine.RunBillingAsync();

        await using var db = _database.NewContext();
        var invoices = await db.Invoices.AsNoTracking().Include(i => i.Lines).Where(i => i.CustomerId == customer.Id).ToListAsync(Ct);
        Assert.Equal(40m, invoices.Single(i => i.SubscriptionId == first.Id).Subtotal.Amount);
        Assert.Equal(25m, invoices.Single(i => i.SubscriptionId == second.Id).Subtotal.Amount);
        Assert.Equal((40m, 25m), (await RecordedMrrAsync(first.Id), await RecordedMrrAsync(second.Id)));
    }
}
