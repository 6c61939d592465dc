using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>The catalog as an admin keeps it and a support agent uses it: plans, prices, coupons and a price migration.</summary>
public sealed class CatalogPageTests(ConsoleAppHost host, BrowserFixture browser)
{
    private static readonly Actor Setup = new("setup@example.test", "admin");

    private async Task<T> InScopeAsync<TService, T>(Func<TService, Task<T>> work) where TService : notnull
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TService>());
    }

    private Task<CustomerView> CustomerAsync(string name) => InScopeAsync<CustomerCommands, CustomerView>(c => c.CreateAsync(
        new CreateCustomer(name, $"{Guid.NewGuid():N}@example.test", "USD", new AddressInput("1 Test Street", null, "London", "EC1A 1BB", "GB"), null),
        Setup, "setup", default));

    private static async Task ConfirmAsync(IPage page, string reason, string outcome)
    {
        await page.Locator(".mud-dialog textarea").FillAsync(reason);
        await page.Locator(".mud-dialog").GetByTestId("reason-confirm").ClickAsync();
        await Expect(page.Locator(".mud-snackbar").Last).ToContainTextAsync(outcome);
    }

    [Fact]
    public async Task Admin_creates_a_plan_with_two_prices_and_a_coupon_and_support_starts_a_subscription_whose_upcoming_invoice_shows_the_discount()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var (planName, couponCode) = ($"Studio {suffix}", $"LAUNCH-{suffix}");
        await using var adminContext = await browser.NewContextAsync(host.BaseAddress);
        var admin = await adminContext.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(admin, "admin", "Ada Admin", "/catalog");

        var newPlan = admin.GetByTestId("new-plan");
        await newPlan.Locator("[data-testid=plan-code] input, input[data-testid=plan-code]").FillAsync($"studio-{suffix}");
        await newPlan.Locator("[data-testid=plan-name] input, input[data-testid=plan-name]").FillAsync(planName);
        await newPlan.Locator("[data-testid=price-amount] input, input[data-testid=price-amount]").FillAsync("40");
        await newPlan.GetByTestId("create-plan").ClickAsync();
        await ConfirmAsync(admin, "New studio offer", $"Plan {planName} created");

        // The page lists the first plans by name: the new one is found by its name.
        await AdminPages.FillAsync(admin, "plan-search", planName);
        var plan = admin.GetByTestId("catalog-plan").Filter(new() { HasText = planName });
        await Expect(admin.GetByTestId("catalog-plan")).ToHaveCountAsync(1);
        await plan.GetByTestId("new-price").ClickAsync();
        await plan.GetByTestId("add-price").Locator("[data-testid=price-amount] input, input[data-testid=price-amount]").FillAsync("400");
        await ConsolePages.PickAsync(admin, plan.GetByTestId("add-price").Locator(".mud-select").Last, "year");
        await plan.GetByTestId("add-price-button").ClickAsync();
        await ConfirmAsync(admin, "Yearly option", "$400.00 per year added");
        await Expect(plan.GetByTestId("catalog-price")).ToHaveCountAsync(2);

        var coupons = admin.GetByTestId("coupons");
        await coupons.Locator("[data-testid=coupon-code] input, input[data-testid=coupon-code]").FillAsync(couponCode);
        await coupons.Locator("[data-testid=coupon-name] input, input[data-testid=coupon-name]").FillAsync("Launch 25%");
        await coupons.Locator("[data-testid=coupon-value] input, input[data-testid=coupon-value]").FillAsync("25");
        await ConsolePages.PickAsync(admin, coupons.GetByTestId("coupon-duration").Locator(".mud-select").First, "forever");
        await coupons.GetByTestId("create-coupon").ClickAsync();
        await ConfirmAsync(admin, "Launch campaign", $"Coupon {couponCode} created");
        await Expect(coupons.GetByTestId("coupon").Filter(new() { HasText = couponCode })).ToContainTextAsync("25% off for ever");
        await BrowserFixture.ScreenshotAsync(admin, "catalog-1440");
        await admin.SetViewportSizeAsync(390, 900);
        await BrowserFixture.ScreenshotAsync(admin, "catalog-390");

        var customer = await CustomerAsync($"Studio Customer {suffix}");
        await using var supportContext = await browser.NewContextAsync(host.BaseAddress);
        var support = await supportContext.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(support, "support", "Dana Support", $"/customers/{customer.Id}");
        var start = support.GetByTestId("start-subscription");
        await ConsolePages.PickAsync(support, start.Locator(".mud-select").First, $"{planName} · $40.00 / month");
        await start.Locator("[data-testid=start-coupon] input, input[data-testid=start-coupon]").FillAsync(couponCode);
        await start.GetByTestId("start-subscription-button").ClickAsync();
        await ConfirmAsync(support, "Signed up by phone", "Subscription started; invoice");

        var subscriptionId = await InScopeAsync<BillingDbContext, Guid>(db => db.Subscriptions.Where(s => s.CustomerId == customer.Id).Select(s => s.Id).SingleAsync());
        await support.GotoAsync($"/subscriptions/{subscriptionId}");
        await AdminPages.WaitUntilInteractiveAsync(support);
        await support.GetByTestId("preview-next-invoice").ClickAsync();
        var upcoming = support.GetByTestId("next-invoice");
        await Expect(upcoming.GetByTestId("preview-lines")).ToContainTextAsync("Discount: Launch 25%");
        await Expect(upcoming.GetByTestId("preview-lines")).ToContainTextAsync("-$10.00");
        await Expect(upcoming.GetByTestId("preview-total")).ToContainTextAsync("$30.00");
        await BrowserFixture.ScreenshotAsync(support, "subscription-upcoming-discount");
    }

    [Fact]
    public async Task Admin_migrates_a_price_s_subscribers_after_the_preview_shows_their_count_and_MRR_change()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var plan = await InScopeAsync<CatalogCommands, PlanView>(c => c.CreatePlanAsync(new CreatePlan($"mig-{suffix}", $"Migrating {suffix}", null,
            [new AddPrice("USD", 20m, "month", 0), new AddPrice("USD", 26m, "month", 0)]), Setup, "setup", default));
        var (old, raised) = (plan.Prices[0], plan.Prices[1]);
        foreach (var quantity in new[] { 1, 2 })
        {
            var customer = await CustomerAsync($"Migrating Customer {suffix}");
            await InScopeAsync<SubscriptionCommands, SubscriptionChangeView>(s => s.CreateAsync(new CreateSubscription(customer.Id, old.Id, quantity, 0), Setup, "setup", default));
        }

        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "admin", "Ada Admin", "/catalog");
        await AdminPages.FillAsync(page, "plan-search", plan.Code);
        await Expect(page.GetByTestId("catalog-plan")).ToHaveCountAsync(1);
        var block = page.GetByTestId("catalog-plan").Filter(new() { HasText = plan.Name });
        await block.GetByTestId("catalog-price").Filter(new() { HasText = "$20.00" }).GetByTestId("migrate-price").ClickAsync();
        var migration = page.GetByTestId("price-migration");
        await Expect(migration.GetByTestId("start-migration")).ToBeDisabledAsync();
        await ConsolePages.PickAsync(page, migration.Locator(".mud-select").First, "$26.00 / month");
        await migration.GetByTestId("preview-migration").ClickAsync();

        // The preview comes first: 2 subscriptions, 3 units at $20 → $26, MRR +$18.00.
        await Expect(migration.GetByTestId("migration-preview")).ToContainTextAsync("2 subscriptions move at their next renewal");
        await Expect(migration.GetByTestId("migration-mrr-change")).ToHaveTextAsync("+$18.00");
        await BrowserFixture.ScreenshotAsync(page, "catalog-migration-preview");
        await migration.GetByTestId("start-migration").ClickAsync();
        await ConfirmAsync(page, "Price rise", "Migration started: 2 subscriptions");

        // The job runs on the host's Hangfire workers; the page follows its progress.
        var row = page.GetByTestId("migration").Filter(new() { HasText = $"Migrating {suffix} · $20.00 / month" });
        await Expect(row.GetByTestId("migration-progress")).ToContainTextAsync("2 of 2", new() { Timeout = 20_000 });
        await Expect(row).ToContainTextAsync("completed");
        await BrowserFixture.ScreenshotAsync(page, "catalog-migration-done");
        Assert.Equal(2, await InScopeAsync<BillingDbContext, int>(db => db.Subscriptions.CountAsync(s => s.PriceId == old.Id && s.PendingPriceId == raised.Id)));
    }
}
