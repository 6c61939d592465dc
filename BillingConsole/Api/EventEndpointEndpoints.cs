using BillingConsole.Engine.Events;

namespace BillingConsole.Api;

public static class EventEndpointEndpoints
{
    public static void MapEventEndpointEndpoints(this IEndpointRouteBuilder api)
    {
        var endpoints = api.MapGroup("/event-endpoints").WithTags("Outgoing events");

        endpoints.MapPost("/", (RegisterEventEndpoint body, HttpContext http, EventEndpointCommands commands) =>
                IdempotentCommand.RunAsync(http, "event_endpoints.register", body, StatusCodes.Status201Created,
                    (actor, reason, ct) => commands.RegisterAsync(body, actor, reason, ct)))
            .Command<RegisteredEventEndpoint>("RegisterEventEndpoint",
                "Register an endpoint for outgoing events; the signing secret is in this answer only (docs/events.md)", StatusCodes.Status201Created);

        endpoints.MapGet("/", (EventEndpointQueries queries, CancellationToken ct) => queries.EndpointsAsync(ct))
            .WithName("ListEventEndpoints").WithSummary("The registered endpoints with their deliveries counted by status")
            .Produces<IReadOnlyList<EventEndpointSummary>>();
    }
}
