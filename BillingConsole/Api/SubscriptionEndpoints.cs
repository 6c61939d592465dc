using BillingConsole.Engine.Commands;

namespace BillingConsole.Api;

public static class SubscriptionEndpoints
{
    public static void MapSubscriptionEndpoints(this IEndpointRouteBuilder api)
    {
        var subscriptions = api.MapGroup("/subscriptions").WithTags("Subscriptions");

        subscriptions.MapPost("/", (CreateSubscription body, HttpContext http, SubscriptionCommands commands) =>
                IdempotentCommand.RunAsync(http, "subscriptions.create", body, StatusCodes.Status201Created,
                    (actor, reason, ct) => commands.CreateAsync(body, actor, reason, ct)))
            .Command<SubscriptionChangeView>("CreateSubscription", "Start a subscription: a trial, or a first period invoiced now", StatusCodes.Status201Created);

        subscriptions.MapPost("/{id:guid}/change-plan", (Guid id, ChangePlan body, HttpContext http, SubscriptionCommands commands) =>
                IdempotentCommand.RunAsync(http, "subscriptions.change_plan", new { id, body }, StatusCodes.Status200OK,
                    (actor, reason, ct) => commands.ChangePlanAsync(id, body, actor, reason, ct)))
            .Command<PlanChangeView>("ChangePlan", "Change price or quantity; immediate changes return their plan-change invoice");

        subscriptions.MapGet("/{id:guid}/change-plan/preview",
                (Guid id, string? priceId, string? quantity, string? behavior, SubscriptionCommands commands, CancellationToken ct) =>
                    commands.PreviewChangeAsync(id,
                        new ChangePlan(QueryValues.Guid(priceId, nameof(priceId)), QueryValues.Int(quantity, nameof(quantity)), behavior, null), ct))
            .WithName("PreviewPlanChange").WithSummary("The quote and invoice a plan change would produce now; changes nothing")
            .Produces<PlanChangeView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        subscriptions.MapPost("/{id:guid}/cancel", (Guid id, CancelSubscription? body, HttpContext http, SubscriptionCommands commands) =>
                IdempotentCommand.RunAsync(http, "subscriptions.cancel", new { id, body }, StatusCodes.Status200OK,
                    (actor, reason, ct) => commands.CancelAsync(id, body ?? new CancelSubscription(null), actor, reason, ct)))
            .Command<SubscriptionView>("CancelSubscription", "Cancel at the period end (default) or now");

        subscriptions.MapPost("/{id:guid}/pause", (Guid id, HttpContext http, SubscriptionCommands commands) =>
                IdempotentCommand.RunAsync(http, "subscriptions.pause", new { id }, StatusCodes.Status200OK,
                    (actor, reason, ct) => commands.PauseAsync(id, actor, reason, ct)))
            .Command<SubscriptionView>("PauseSubscription", "Pause: nothing is billed until resumed");

        subscriptions.MapPost("/{id:guid}/resume", (Guid id, HttpContext http, SubscriptionCommands commands) =>
                IdempotentCommand.RunAsync(http, "subscriptions.resume", new { id }, StatusCodes.Status200OK,
                    (actor, reason, ct) => commands.ResumeAsync(id, actor, reason, ct)))
            .Command<SubscriptionChangeView>("ResumeSubscription", "Resume; a period that ended during the pause restarts now and is invoiced");

        subscriptions.MapGet("/{id:guid}/upcoming-invoice", async (Guid id, SubscriptionCommands commands, CancellationToken ct) =>
                await commands.UpcomingInvoiceAsync(id, ct) is { } invoice
                    ? Results.Ok(invoice)
                    : ApiProblems.Status(StatusCodes.Status404NotFound,
                        "This subscription has no upcoming invoice: it is paused, canceled, unpaid or cancels at the period end."))
            .WithName("UpcomingInvoice").WithSummary("The invoice the billing run will issue when the current period ends, as things stand")
            .Produces<InvoiceView>().ProducesProblem(StatusCodes.Status404NotFound);
    }
}
