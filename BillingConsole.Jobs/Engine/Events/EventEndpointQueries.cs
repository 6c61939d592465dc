using BillingConsole.Domain.Events;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Events;

/// <summary>An endpoint with its deliveries counted by status.</summary>
public sealed record EventEndpointSummary(EventEndpointView Endpoint, int Pending, int Delivered, int Failed);

/// <summary>One try in an endpoint's delivery log, with the event it carried and where its delivery stands now.</summary>
public sealed record DeliveryLogEntry(Guid AttemptId, Guid DeliveryId, Guid EventId, string EventType, Guid ObjectId, DateTimeOffset AttemptedAt,
    int? StatusCode, int LatencyMs, string? ResponseExcerpt, string? Error, EventDeliveryStatus DeliveryStatus);

/// <summary>What the Integrations page shows: the endpoints and each one's delivery log, newest first.</summary>
public sealed class EventEndpointQueries(BillingDbContext db)
{
    public const int LogPageSize = 100;

    public async Task<IReadOnlyList<EventEndpointSummary>> EndpointsAsync(CancellationToken ct)
    {
        var endpoints = await db.EventEndpoints.AsNoTracking().OrderBy(e => e.CreatedAt).ToListAsync(ct);
        var counts = await db.EventDeliveries.AsNoTracking().GroupBy(d => new { d.EndpointId, d.Status })
            .Select(g => new { g.Key.EndpointId, g.Key.Status, Count = g.Count() }).ToListAsync(ct);
        int Count(Guid id, EventDeliveryStatus status) => counts.SingleOrDefault(c => c.EndpointId == id && c.Status == status)?.Count ?? 0;
        return [.. endpoints.Select(e => new EventEndpointSummary(EventEndpointView.From(e),
            Count(e.Id, EventDeliveryStatus.Pending), Count(e.Id, EventDeliveryStatus.Delivered), Count(e.Id, EventDeliveryStatus.Failed)))];
    }

    public async Task<IReadOnlyList<DeliveryLogEntry>> DeliveryLogAsync(Guid endpointId, CancellationToken ct) =>
        await (from a in db.EventDeliveryAttempts.AsNoTracking()
               join d in db.EventDeliveries.AsNoTracking() on a.DeliveryId equals d.Id
               join e in db.Events.AsNoTracking() on d.EventId equals e.Id
               where a.EndpointId == endpointId
               orderby a.AttemptedAt descending, a.Id descending
               select new DeliveryLogEntry(a.Id, d.Id, e.Id, e.Type, e.ObjectId, a.AttemptedAt, a.StatusCode, a.LatencyMs, a.ResponseExcerpt, a.Error, d.Status))
            .Take(LogPageSize).ToListAsync(ct);
}
