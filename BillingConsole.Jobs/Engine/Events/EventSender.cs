using BillingConsole.Configuration;
using BillingConsole.Domain.Events;
using BillingConsole.Persistence;
using BillingConsole.Persistence.Availability;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.Engine.Events;

/// <summary>What one delivery pass did.</summary>
public sealed record EventPass(int Delivered, int Failed);

/// <summary>
/// Delivers the pending events that are due, in Events:DeliveryLanes lanes. Each delivery is claimed with FOR UPDATE SKIP
/// LOCKED in a transaction that stays open while it is posted and commits right after the answer, as the notifications are:
/// two nodes never post the same delivery at once, and only a crash between the receiver's answer and that commit posts
/// it again (under the same event id, which receivers deduplicate by). A delivery waits while an earlier event of the same
/// object (its ordering key) is pending for that endpoint, and each endpoint has at most Events:MaxInFlightPerEndpoint
/// deliveries in flight over all nodes (advisory-lock slots). Nothing is sent while the node is read-only.
/// </summary>
public sealed class EventSender(
    IServiceScopeFactory scopes,
    NpgsqlDataSource dataSource,
    EventPoster poster,
    EndpointSecrets secrets,
    ReadOnlyState readOnly,
    IOptionsMonitor<EventsOptions> options,
    TimeProvider clock,
    ILogger<EventSender> logger)
{
    public async Task<EventPass> RunDueAsync(CancellationToken ct)
    {
        if (readOnly.IsReadOnly) return new EventPass(0, 0);
        var lanes = await Task.WhenAll(Enumerable.Range(0, options.CurrentValue.DeliveryLanes).Select(_ => RunLaneAsync(ct)));
        return new EventPass(lanes.Sum(l => l.Delivered), lanes.Sum(l => l.Failed));
    }

    private async Task<EventPass> RunLaneAsync(CancellationToken ct)
    {
        int delivered = 0, failed = 0;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
        var bodies = scope.ServiceProvider.GetRequiredService<EventBodies>();
        // Endpoints whose in-flight slots were all taken when this lane came to them: left to the lanes that hold them.
        var full = new List<Guid>();
        while (!readOnly.IsReadOnly && !ct.IsCancellationRequested)
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var now = clock.GetUtcNow();
            var skipped = full.ToArray();
            var delivery = await db.EventDeliveries.FromSql($"""
                select d.* from event_deliveries d
                join events e on e.id = d.event_id
                join event_endpoints p on p.id = d.endpoint_id
                where d.status = 'pending' and p.enabled and (d.next_attempt_at is null or d.next_attempt_at <= {now})
                  and d.endpoint_id <> all({skipped})
                  and not exists (
                      select 1 from event_deliveries earlier
                      join events ee on ee.id = earlier.event_id
                      where earlier.endpoint_id = d.endpoint_id and earlier.status = 'pending'
                        and ee.ordering_key = e.ordering_key and ee.sequence < e.sequence)
                order by e.sequence
                limit 1
                for update of d skip locked
                """).SingleOrDefaultAsync(ct);
            if (delivery is null) break;
            if (!await TakeSlotAsync(db, delivery.EndpointId, ct))
            {
                full.Add(delivery.EndpointId);
                continue;
            }

            var endpoint = await db.EventEndpoints.SingleAsync(e => e.Id == delivery.EndpointId, ct);
            var outgoing = await db.Events.AsNoTracking().SingleAsync(e => e.Id == delivery.EventId, ct);
            var body = outgoing.Body ?? await WriteBodyAsync(outgoing, bodies, ct);
            var answer = await poster.PostAsync(endpoint.Url, secrets.Open(endpoint.SealedSecret), outgoing.Id, outgoing.Type, body, ct);
            var at = clock.GetUtcNow();
            db.EventDeliveryAttempts.Add(new EventDeliveryAttempt(delivery.Id, endpoint.Id, at, answer.StatusCode, answer.LatencyMs, answer.Excerpt, answer.Error));
            if (answer.Accepted)
            {
                delivery.MarkDelivered(answer.StatusCode!.Value, at);
                delivered++;
            }
            else
            {
                failed++;
                if (delivery.RecordFailure(answer.StatusCode, answer.Error!, at))
                {
                    logger.LogWarning("Endpoint {EndpointId} disabled: event {EventId} was not accepted within the retry window", endpoint.Id, outgoing.Id);
                    endpoint.Disable($"Disabled on {at:yyyy-MM-dd HH:mm} UTC: {outgoing.Type} {outgoing.Id} was not accepted for " +
                                     $"{EventDelivery.RetryWindow.TotalDays:0} days; the last try said: {answer.Error}", at);
                }
            }
            await db.SaveChangesAsync(CancellationToken.None);
            await transaction.CommitAsync(CancellationToken.None);
        }
        return new EventPass(delivered, failed);
    }

    /// <summary>Takes a free in-flight slot of the endpoint for the current transaction; false when all are taken.</summary>
    private async Task<bool> TakeSlotAsync(BillingDbContext db, Guid endpointId, CancellationToken ct)
    {
        var slots = Enumerable.Range(0, options.CurrentValue.MaxInFlightPerEndpoint).Select(s => AdvisoryLocks.EventEndpointSlot(endpointId, s)).ToArray();
        var taken = await db.Database.SqlQuery<long>($"""select k as "Value" from unnest({slots}) k where pg_try_advisory_xact_lock(k) limit 1""").ToListAsync(ct);
        return taken.Count > 0;
    }

    /// <summary>
    /// Writes the event's body the first time it is sent, committed at once and outside the claim, so endpoints posting the
    /// same event never wait on each other; the first body written wins and is what every endpoint and retry gets.
    /// </summary>
    private async Task<string> WriteBodyAsync(OutgoingEvent outgoing, EventBodies bodies, CancellationToken ct)
    {
        var body = await bodies.RenderAsync(outgoing, ct);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "update events set body = coalesce(body, @body) where id = @id returning body", new { body, id = outgoing.Id }, cancellationToken: ct)) ?? body;
    }
}
