using System.Net;
using BillingConsole.Engine.Commands;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Api;

public sealed class CatalogApiTests(ConsoleAppHost host) : ApiTestBase(host)
{
    private static string Code(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private async Task<PlanView> CreatePlanAsync(params object[] prices) =>
        await Api.ReadAsync<PlanView>(await Api.PostAsync("/api/v1/plans", new { code = Code("team"), name = "Team", description = "For teams", prices }),
            HttpStatusCode.Created);

    private async Task<CouponView> CreateCouponAsync(object coupon) =>
        await Api.ReadAsync<CouponView>(await Api.PostAsync("/api/v1/coupons", coupon), HttpStatusCode.Created);

    private async Task<int> LedgerImbalancesAsync(Guid customerId) =>
        await Api.WithDbAsync(db => db.LedgerEntries.Where(e => e.CustomerId == customerId)
            .GroupBy(e => e.TransactionId).CountAsync(g => g.Sum(e => e.Debit) != g.Sum(e => e.Credit)));

    [Fact]
    public async Task A_plan_is_created_with_two_prices_gets_a_third_and_an_archived_price_stays_with_its_subscribers_only()
    {
        var plan = await CreatePlanAsync(new { currency = "USD", amount = 30m, interval = "month", trialDays = 0 },
            new { currency = "USD", amount = 300m, interval = "year", trialDays = 14 });
        Assert.Equal([("USD", 30m, "month", 0, true), ("USD", 300m, "year", 14, true)],
            plan.Prices.Select(p => (p.Currency, p.Amount, p.Interval, p.TrialDays, p.Active)));
        var added = await Api.ReadAsync<PriceView>(
            await Api.PostAsync($"/api/v1/plans/{plan.Id}/prices", new { currency = "usd", amount = 35m, interval = "month" }), HttpStatusCode.Created);
        Assert.Equal((plan.Id, "USD", 35m, true), (added.PlanId, added.Currency, added.Amount, added.Active));

        var monthly = plan.Prices[0].Id;
        var subscriber = await Api.CreateCustomerAsync();
        var subscription = (await Api.CreateSubscriptionAsync(subscriber.Id, monthly)).Subscription;
        var archived = await Api.ReadAsync<PriceView>(await Api.PostAsync($"/api/v1/prices/{monthly}/archive"), HttpStatusCode.OK);
        Assert.False(archived.Active);

        // The subscriber renews at the archived price; a new subscription cannot take it, and nothing is written for it.
        var upcoming = await Api.ReadAsync<InvoiceView>(await Api.Http.GetAsync($"/api/v1/subscriptions/{subscription.Id}/upcoming-invoice",
            TestContext.Current.CancellationToken), HttpStatusCode.OK);
        Assert.Equal((monthly, 30m), (upcoming.Lines[0].PriceId, upcoming.Total));
        var newcomer = await Api.CreateCustomerAsync();
        var before = await Api.CountRowsAsync(newcomer.Id);
        var refused = await Problem.ReadAsync(await Api.PostAsync("/api/v1/subscriptions", new { customerId = newcomer.Id, priceId = monthly, quantity = 1 }),
            HttpStatusCode.UnprocessableEntity);
        Assert.Equal("This price is archived: subscriptions that have it keep it, but no new subscription or plan change can take it.", refused.Detail);
        Assert.Equal(before, await Api.CountRowsAsync(newcomer.Id));
        string[] audited = [plan.Id.ToString(), added.Id.ToString(), monthly.ToString()];
        Assert.Equal(["plan.created", "price.archived", "price.created"], await Api.WithDbAsync(db => db.AuditLog
            .Where(a => audited.Contains(a.EntityId) && a.Action != "subscription.created").Select(a => a.Action).OrderBy(a => a).ToListAsync()));
    }

    [Fact]
    public async Task A_negative_price_is_refused_with_a_sentence_and_nothing_is_written()
    {
        var code = Code("bad");
        var problem = await Problem.ReadAsync(await Api.PostAsync("/api/v1/plans",
            new { code, name = "Bad", prices = new[] { new { currency = "USD", amount = -5m, interval = "month" } } }), HttpStatusCode.BadRequest);
        Assert.Equal("A price must not be negative.", Assert.Single(problem.Errors!["prices[0].amount"]));
        Assert.False(await Api.WithDbAsync(db => db.Plans.AnyAsync(p => p.Code == code)));

        var plan = await CreatePlanAsync(new { currency = "USD", amount = 10m, interval = "month" });
        problem = await Problem.ReadAsync(await Api.PostAsync($"/api/v1/plans/{plan.Id}/prices", new { currency = "USD", amount = -0.01m, interval = "month" }),
            HttpStatusCode.BadRequest);
        Assert.Equal("A price must not be negative.", Assert.Single(problem.Errors!["amount"]));
        Assert.Equal(1, await Api.WithDbAsync(db => db.Prices.CountAsync(p => p.PlanId == plan.Id)));
    }

    [Fact]
    public async Task A_subscription_started_with_a_coupon_is_discounted_on_its_invoice_the_ledger_and_the_upcoming_invoice_and_a_replay_changes_nothing()
    {
        var plan = await CreatePlanAsync(new { currency = "USD", amount = 30m, interval = "month" });
        var coupon = await CreateCouponAsync(new { code = Code("WELCOME"), name = "Welcome 20%", percentOff = 20m, duration = "forever" });
        var customer = await Api.CreateCustomerAsync();
        var key = Guid.NewGuid();
        var request = new { customerId = customer.Id, priceId = plan.Prices[0].Id, quantity = 2, trialDays = 0, couponCode = coupon.Code };

        var first = await Api.PostAsync("/api/v1/subscriptions", request, key);
        var firstBody = await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var created = System.Text.Json.JsonSerializer.Deserialize<SubscriptionChangeView>(firstBody, ApiTestClient.Json)!;
        Assert.Equal([("recurring", 60m), ("discount", -12m)], created.Invoice!.Lines.Select(l => (l.Kind, l.Amount)));
        Assert.Equal((48m, 48m), (created.Invoice.Subtotal, created.Invoice.AmountDue - created.Invoice.Tax));
        Assert.Equal((coupon.Id, created.Subscription.Id, (DateTimeOffset?)null), (created.Discount!.CouponId, created.Discount.SubscriptionId, created.Discount.EndsAt));

        // Contra-revenue: revenue is credited the full charge and the discounts account debited what came off.
        var postings = await Api.WithDbAsync(db => db.LedgerEntries.Where(e => e.InvoiceId == created.Invoice.Id)
            .Select(e => new { Account = e.Account.ToString(), e.Debit, e.Credit }).ToListAsync());
        Assert.Contains(postings, p => p is { Account: "Revenue", Credit: 60m });
        Assert.Contains(postings, p => p is { Account: "Discounts", Debit: 12m });
        Assert.Equal(0, await LedgerImbalancesAsync(customer.Id));

        var upcoming = await Api.ReadAsync<InvoiceView>(await Api.Http.GetAsync($"/api/v1/subscriptions/{created.Subscription.Id}/upcoming-invoice",
            TestContext.Current.CancellationToken), HttpStatusCode.OK);
        Assert.Equal([("recurring", 60m), ("discount", -12m)], upcoming.Lines.Select(l => (l.Kind, l.Amount)));

        var rows = await Api.CountRowsAsync(customer.Id);
        var replay = await Api.PostAsync("/api/v1/subscriptions", request, key);
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal(firstBody, await replay.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(rows, await Api.CountRowsAsync(customer.Id));
        Assert.Equal(1, await Api.WithDbAsync(db => db.Coupons.Where(c => c.Id == coupon.Id).Select(c => c.TimesRedeemed).SingleAsync()));
    }

    [Fact]
    public async Task A_coupon_past_its_redemption_limit_is_refused_with_a_sentence_and_nothing_is_written()
    {
        var plan = await CreatePlanAsync(new { currency = "USD", amount = 30m, interval = "month" });
        var coupon = await CreateCouponAsync(new { code = Code("ONCE"), name = "Five off", amountOff = 5m, currency = "USD", duration = "once", maxRedemptions = 1 });
        var first = await Api.CreateCustomerAsync();
        var subscription = (await Api.CreateSubscriptionAsync(first.Id, plan.Prices[0].Id)).Subscription;
        await Api.ReadAsync<DiscountView>(await Api.PostAsync($"/api/v1/subscriptions/{subscription.Id}/discount", new { couponCode = coupon.Code }),
            HttpStatusCode.Created);

        var second = await Api.CreateCustomerAsync();
        var before = await Api.CountRowsAsync(second.Id);
        var refused = await Problem.ReadAsync(await Api.PostAsync("/api/v1/subscriptions",
            new { customerId = second.Id, priceId = plan.Prices[0].Id, quantity = 1, couponCode = coupon.Code }), HttpStatusCode.UnprocessableEntity);
        Assert.Equal($"The coupon {coupon.Code} has reached its redemption limit of 1.", refused.Detail);
        Assert.Equal(before, await Api.CountRowsAsync(second.Id));
        refused = await Problem.ReadAsync(await Api.PostAsync($"/api/v1/customers/{second.Id}/discount", new { couponCode = coupon.Code }),
            HttpStatusCode.UnprocessableEntity);
        Assert.Equal($"The coupon {coupon.Code} has reached its redemption limit of 1.", refused.Detail);
        Assert.Equal((1, 1), await Api.WithDbAsync(async db => (
            await db.Coupons.Where(c => c.Id == coupon.Id).Select(c => c.TimesRedeemed).SingleAsync(),
            await db.Discounts.CountAsync(d => d.CouponId == coupon.Id))));
    }

    [Fact]
    public async Task Coupon_terms_that_cannot_be_kept_are_refused_by_field()
    {
        var problem = await Problem.ReadAsync(await Api.PostAsync("/api/v1/coupons",
            new { code = Code("X"), name = "Both", percentOff = 150m, duration = "repeating" }), HttpStatusCode.BadRequest);
        Assert.Equal("A percentage off is more than 0 and at most 100.", problem.Errors!["percentOff"][0]);
        Assert.Equal("A repeating coupon needs durationMonths.", problem.Errors["durationMonths"][0]);
    }

    [Fact]
    public async Task A_price_migration_preview_counts_the_subscribers_and_prices_their_MRR_change_before_anything_starts()
    {
        var plan = await CreatePlanAsync(new { currency = "USD", amount = 30m, interval = "month" }, new { currency = "USD", amount = 360m, interval = "year" });
        var (monthly, yearly) = (plan.Prices[0].Id, plan.Prices[1].Id);
        foreach (var quantity in new[] { 1, 3 })
            await Api.CreateSubscriptionAsync((await Api.CreateCustomerAsync()).Id, monthly, quantity);

        var preview = await Api.ReadAsync<PriceMigrationPreview>(await Api.Http.GetAsync($"/api/v1/prices/{monthly}/migration/preview?toPriceId={yearly}",
            TestContext.Current.CancellationToken), HttpStatusCode.OK);

        // 4 units at $30 a month before; at $360 a year, $30 a month as well: MRR does not move.
        Assert.Equal((2, "USD", 120m, 120m, 0m), (preview.Subscribers, preview.Currency, preview.MrrBefore, preview.MrrAfter, preview.MrrChange));
        Assert.Equal(0, await Api.WithDbAsync(db => db.PriceMigrations.CountAsync(m => m.FromPriceId == monthly)));
        var started = await Api.ReadAsync<PriceMigrationView>(await Api.PostAsync($"/api/v1/prices/{monthly}/migrations", new { toPriceId = yearly }),
            HttpStatusCode.Accepted);
        Assert.Equal((2, 0m), (started.Expected, started.ExpectedMrrChange));
        var refused = await Problem.ReadAsync(await Api.Http.GetAsync($"/api/v1/prices/{monthly}/migration/preview?toPriceId={monthly}",
            TestContext.Current.CancellationToken), HttpStatusCode.UnprocessableEntity);
        Assert.Equal("A price migration moves subscribers to another price.", refused.Detail);
    }
}
