using BillingConsole.Engine.Commands;

namespace BillingConsole.Api;

/// <summary>The catalog (plans, prices, price migrations) and coupons, with their discounts on subscriptions and customers.</summary>
public static class CatalogEndpoints
{
    public static void MapCatalogEndpoints(this IEndpointRouteBuilder api)
    {
        var plans = api.MapGroup("/plans").WithTags("Catalog");

        plans.MapGet("/", (CatalogCommands catalog, CancellationToken ct) => catalog.ListAsync(ct))
            .WithName("ListPlans").WithSummary("Every plan with its prices, archived ones included").Produces<IReadOnlyList<PlanView>>();

        plans.MapPost("/", (CreatePlan body, HttpContext http, CatalogCommands catalog) =>
                IdempotentCommand.RunAsync(http, "plans.create", body, StatusCodes.Status201Created,
                    (actor, reason, ct) => catalog.CreatePlanAsync(body, actor, reason, ct)))
            .Command<PlanView>("CreatePlan", "Create a plan, with its first prices", StatusCodes.Status201Created);

        plans.MapPost("/{id:guid}/prices", (Guid id, AddPrice body, HttpContext http, CatalogCommands catalog) =>
                IdempotentCommand.RunAsync(http, "plans.add_price", new { id, body }, StatusCodes.Status201Created,
                    (actor, reason, ct) => catalog.AddPriceAsync(id, body, actor, reason, ct)))
            .Command<PriceView>("AddPrice", "Add a price to a plan", StatusCodes.Status201Created);

        var prices = api.MapGroup("/prices").WithTags("Catalog");

        prices.MapPost("/{id:guid}/archive", (Guid id, HttpContext http, CatalogCommands catalog) =>
                IdempotentCommand.RunAsync(http, "prices.archive", new { id }, StatusCodes.Status200OK,
                    (actor, reason, ct) => catalog.ArchivePriceAsync(id, actor, reason, ct)))
            .Command<PriceView>("ArchivePrice", "Archive a price: its subscribers keep it, no new subscription can take it");

        prices.MapGet("/{id:guid}/migration/preview", (Guid id, string? toPriceId, PriceMigrations migrations, CancellationToken ct) =>
                migrations.PreviewAsync(id, new MigratePrice(QueryValues.Guid(toPriceId, nameof(toPriceId))), ct))
            .WithName("PreviewPriceMigration").WithSummary("How many subscribers a migration would move and how MRR would change; changes nothing")
            .Produces<PriceMigrationPreview>().ProducesProblem(StatusCodes.Status404NotFound).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        prices.MapPost("/{id:guid}/migrations", (Guid id, MigratePrice body, HttpContext http, PriceMigrations migrations) =>
                IdempotentCommand.RunAsync(http, "prices.migrate", new { id, body }, StatusCodes.Status202Accepted,
                    (actor, reason, ct) => migrations.StartAsync(id, body, actor, reason, ct)))
            .Command<PriceMigrationView>("StartPriceMigration", "Move a price's subscribers to another price at their next renewal, in the background",
                StatusCodes.Status202Accepted);

        api.MapGet("/price-migrations/{id:guid}", (Guid id, PriceMigrations migrations, CancellationToken ct) => migrations.GetAsync(id, ct))
            .WithTags("Catalog").WithName("GetPriceMigration").WithSummary("A price migration's status and progress")
            .Produces<PriceMigrationView>().ProducesProblem(StatusCodes.Status404NotFound);

        var coupons = api.MapGroup("/coupons").WithTags("Coupons");

        coupons.MapGet("/", (CouponCommands commands, CancellationToken ct) => commands.ListAsync(ct))
            .WithName("ListCoupons").WithSummary("Every coupon, newest first, with how often it was redeemed").Produces<IReadOnlyList<CouponView>>();

        coupons.MapPost("/", (CreateCoupon body, HttpContext http, CouponCommands commands) =>
                IdempotentCommand.RunAsync(http, "coupons.create", body, StatusCodes.Status201Created,
                    (actor, reason, ct) => commands.CreateAsync(body, actor, reason, ct)))
            .Command<CouponView>("CreateCoupon", "Create a coupon: percent or amount off, once, repeating or forever", StatusCodes.Status201Created);

        api.MapPost("/subscriptions/{id:guid}/discount", (Guid id, ApplyCoupon body, HttpContext http, CouponCommands commands) =>
                IdempotentCommand.RunAsync(http, "subscriptions.apply_coupon", new { id, body }, StatusCodes.Status201Created,
                    (actor, reason, ct) => commands.ApplyToSubscriptionAsync(id, body, actor, reason, ct)))
            .WithTags("Coupons").Command<DiscountView>("ApplyCouponToSubscription", "Redeem a coupon for a subscription from its next invoice",
                StatusCodes.Status201Created);

        api.MapPost("/customers/{id:guid}/discount", (Guid id, ApplyCoupon body, HttpContext http, CouponCommands commands) =>
                IdempotentCommand.RunAsync(http, "customers.apply_coupon", new { id, body }, StatusCodes.Status201Created,
                    (actor, reason, ct) => commands.ApplyToCustomerAsync(id, body, actor, reason, ct)))
            .WithTags("Coupons").Command<DiscountView>("ApplyCouponToCustomer", "Redeem a coupon for every subscription of a customer",
                StatusCodes.Status201Created);
    }
}
