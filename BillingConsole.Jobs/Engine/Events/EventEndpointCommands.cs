using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Events;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using FluentValidation;
using FluentValidation.Results;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Events;

public sealed record RegisterEventEndpoint(string? Url, IReadOnlyList<string>? EventTypes, string? Description);

public sealed record EventEndpointView(Guid Id, string Url, IReadOnlyList<string> EventTypes, string? Description, bool Enabled,
    string? DisabledReason, DateTimeOffset? DisabledAt, DateTimeOffset CreatedAt)
{
    public static EventEndpointView From(EventEndpoint e) =>
        new(e.Id, e.Url, e.EventTypes, e.Description, e.Enabled, e.DisabledReason, e.DisabledAt, e.CreatedAt);
}

/// <param name="Secret">The signing secret, shown this once: it is never returned again.</param>
public sealed record RegisteredEventEndpoint(EventEndpointView Endpoint, string Secret);

/// <summary>An admin registering, disabling and enabling event endpoints and sending a delivery again; each audited.</summary>
public sealed class EventEndpointCommands(BillingDbContext db, AuditTrail audit, EndpointSecrets secrets, IOptionsMonitor<EventsOptions> options, TimeProvider clock)
{
    public const int MaxUrlLength = 2000;

    public async Task<RegisteredEventEndpoint> RegisterAsync(RegisterEventEndpoint input, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        var url = await CheckUrlAsync(input.Url, ct);
        var types = input.EventTypes ?? [];
        var unknown = types.Where(t => !EventTypes.All.Contains(t)).ToList();
        if (types.Count == 0) Invalid("eventTypes", "Choose at least one event type.");
        if (unknown.Count > 0) Invalid("eventTypes", $"Unknown event types: {string.Join(", ", unknown)}. Known: {string.Join(", ", EventTypes.All)}.");
        if (input.Description is { Length: > 500 }) Invalid("description", "The description is at most 500 characters.");

        var (secret, sealedSecret) = secrets.Create();
        var endpoint = new EventEndpoint(url, types, sealedSecret, input.Description, actor.Name, clock.GetUtcNow());
        db.EventEndpoints.Add(endpoint);
        var view = EventEndpointView.From(endpoint);
        audit.Record(actor, "event_endpoint.registered", "event_endpoint", endpoint.Id, reason, after: view);
        await db.SaveChangesAsync(ct);
        return new RegisteredEventEndpoint(view, secret);
    }

    public Task<EventEndpointView> DisableAsync(Guid endpointId, Actor actor, string reason, CancellationToken ct) =>
        ChangeAsync(endpointId, "event_endpoint.disabled", actor, reason, e => e.Disable($"Disabled by {actor.Name}: {reason}", clock.GetUtcNow()), ct);

    public Task<EventEndpointView> EnableAsync(Guid endpointId, Actor actor, string reason, CancellationToken ct) =>
        ChangeAsync(endpointId, "event_endpoint.enabled", actor, reason, e => e.Enable(), ct);

    /// <summary>Queues a delivered or given-up delivery once more, at once; the receiver sees the same event id again.</summary>
    public async Task SendAgainAsync(Guid deliveryId, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        var delivery = await db.EventDeliveries.SingleOrDefaultAsync(d => d.Id == deliveryId, ct) ?? throw new ResourceNotFoundException("event delivery", deliveryId);
        if (delivery.Status == EventDeliveryStatus.Pending) throw new DomainRuleException("This delivery is already waiting to be sent.");
        delivery.SendAgain();
        audit.Record(actor, "event_delivery.sent_again", "event_delivery", delivery.Id, reason);
        await db.SaveChangesAsync(ct);
    }

    private async Task<EventEndpointView> ChangeAsync(Guid endpointId, string action, Actor actor, string reason, Action<EventEndpoint> change, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        var endpoint = await db.EventEndpoints.SingleOrDefaultAsync(e => e.Id == endpointId, ct) ?? throw new ResourceNotFoundException("event endpoint", endpointId);
        var before = EventEndpointView.From(endpoint);
        change(endpoint);
        var after = EventEndpointView.From(endpoint);
        audit.Record(actor, action, "event_endpoint", endpoint.Id, reason, before, after);
        await db.SaveChangesAsync(ct);
        return after;
    }

    /// <summary>An absolute http(s) URL without credentials, whose host is public or in an allowed network.</summary>
    private async Task<Uri> CheckUrlAsync(string? text, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(text)) Invalid("url", "Give the endpoint's URL, e.g. https://crm.example.com/billing-events.");
        if (text!.Length > MaxUrlLength) Invalid("url", $"The URL is at most {MaxUrlLength} characters.");
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
            Invalid("url", "The URL is an absolute http:// or https:// address, e.g. https://crm.example.com/billing-events.");
        if (url!.UserInfo.Length > 0) Invalid("url", "The URL may not carry a user name or password; authenticate the events by their signature.");
        if (await EndpointAddressGuard.CheckAsync(url, options.CurrentValue.Networks(), ct) is { } refusal) Invalid("url", refusal);
        return url;
    }

    private static void Invalid(string field, string message) => throw new ValidationException([new ValidationFailure(field, message)]);
}
