using BillingConsole.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.ReadModels;

public sealed record AuditListFilter
{
    public string? Actor { get; set; }
    public string? Action { get; set; }
    public string? EntityType { get; set; }
    public string? EntityId { get; set; }
    public DateOnly? From { get; set; }
    public DateOnly? To { get; set; }
}

public sealed record AuditRow(long Id, DateTimeOffset OccurredAt, string Actor, string? ActorRole, string Action, string EntityType, string EntityId,
    string Reason, string? Before, string? After);

public sealed class AuditList(NpgsqlDataSource dataSource, IOptions<ListOptions> options)
{
    private static readonly Dictionary<string, string> Sorts = new()
    {
        // Each reads along an index: an actor's or an action's entries newest first, an entity's entries together.
        ["occurredAt"] = "a.occurred_at", ["actor"] = "a.actor, a.occurred_at", ["action"] = "a.action, a.occurred_at",
        ["entityType"] = "a.entity_type, a.entity_id",
    };

    /// <summary>The columns the list sorts by, as the page and its URL name them.</summary>
    public static IReadOnlyCollection<string> SortKeys => Sorts.Keys;

    public Task<PageResult<AuditRow>> PageAsync(AuditListFilter filter, PageRequest request, CancellationToken ct) =>
        Query(filter).PageAsync<AuditRow>(dataSource, request, ct);

    public IAsyncEnumerable<AuditRow> StreamAsync(AuditListFilter filter, string? sortBy, bool descending, CancellationToken ct) =>
        Query(filter).StreamAsync<AuditRow>(dataSource, sortBy, descending, ct);

    private ListQuery Query(AuditListFilter filter) =>
        new ListQuery(options.Value, "a.id, a.occurred_at, a.actor, a.actor_role, a.action, a.entity_type, a.entity_id, a.reason, a.before::text as before, a.after::text as after",
                "audit_log a", [], Sorts, "a.occurred_at", "a.id")
            .WhereIf(!string.IsNullOrWhiteSpace(filter.Actor), "a.actor ilike @actor", "actor", $"%{ListText.EscapeLike(filter.Actor?.Trim())}%")
            .WhereIf(!string.IsNullOrWhiteSpace(filter.Action), "a.action = @action", "action", filter.Action?.Trim())
            .WhereIf(!string.IsNullOrWhiteSpace(filter.EntityType), "a.entity_type = @entityType", "entityType", filter.EntityType?.Trim())
            .WhereIf(!string.IsNullOrWhiteSpace(filter.EntityId), "a.entity_id = @entityId", "entityId", filter.EntityId?.Trim())
            .WhereIf(filter.From is not null, "a.occurred_at >= @from", "from", ListText.StartOfDay(filter.From))
            .WhereIf(filter.To is not null, "a.occurred_at < @to", "to", ListText.EndOfDay(filter.To));
}
