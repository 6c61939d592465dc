using System.Runtime.CompilerServices;
using BillingConsole.Configuration;
using Dapper;
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

/// <param name="EntityLabel">A readable name for the entity (a customer's name, an invoice's number), null when it has none.</param>
public sealed record AuditRow(long Id, DateTimeOffset OccurredAt, string Actor, string? ActorRole, string Action, string EntityType, string EntityId,
    string Reason, string? Before, string? After, string? EntityLabel);

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

    public async Task<PageResult<AuditRow>> PageAsync(AuditListFilter filter, PageRequest request, CancellationToken ct) =>
        await (await QueryAsync(filter, ct)).PageAsync<AuditRow>(dataSource, request, ct);

    public async IAsyncEnumerable<AuditRow> StreamAsync(AuditListFilter filter, string? sortBy, bool descending,
        [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in (await QueryAsync(filter, ct)).StreamAsync<AuditRow>(dataSource, sortBy, descending, ct)) yield return row;
    }

    /// <summary>
    /// The label is looked up for the page's rows only: the planner evaluates these subqueries after the sort and limit.
    /// Entity ids of these types are always the entity's uuid.
    /// </summary>
    private const string EntityLabel = """
        case a.entity_type
            when 'customer' then (select c.name from customers c where c.id = a.entity_id::uuid)
            when 'subscription' then (select c.name || ' · ' || pl.name from subscriptions s join customers c on c.id = s.customer_id
                                      join prices p on p.id = s.price_id join plans pl on pl.id = p.plan_id where s.id = a.entity_id::uuid)
            when 'invoice' then (select i.number from invoices i where i.id = a.entity_id::uuid)
            when 'dunning_case' then (select i.number from dunning_cases d join invoices i on i.id = d.invoice_id where d.id = a.entity_id::uuid)
        end as entity_label
        """;

    private async Task<ListQuery> QueryAsync(AuditListFilter filter, CancellationToken ct) =>
        new ListQuery(options.Value,
                $"a.id, a.occurred_at, a.actor, a.actor_role, a.action, a.entity_type, a.entity_id, a.reason, a.before::text as before, a.after::text as after, {EntityLabel}",
                "audit_log a", [], Sorts, "a.occurred_at", "a.id")
            .WhereIf(!string.IsNullOrWhiteSpace(filter.Actor), "a.actor ilike @actor", "actor", $"%{ListText.EscapeLike(filter.Actor?.Trim())}%")
            .WhereIf(!string.IsNullOrWhiteSpace(filter.Action), "a.action = any(@actions)", "actions",
                string.IsNullOrWhiteSpace(filter.Action) ? null : await ActionsContainingAsync(filter.Action.Trim(), ct))
            .WhereIf(!string.IsNullOrWhiteSpace(filter.EntityType), "a.entity_type = @entityType", "entityType", filter.EntityType?.Trim())
            .WhereIf(!string.IsNullOrWhiteSpace(filter.EntityId), "a.entity_id = @entityId", "entityId", filter.EntityId?.Trim())
            .WhereIf(filter.From is not null, "a.occurred_at >= @from", "from", ListText.StartOfDay(filter.From))
            .WhereIf(filter.To is not null, "a.occurred_at < @to", "to", ListText.EndOfDay(filter.To));

    /// <summary>
    /// The actions whose name contains the text, in any case ("void" finds invoice.voided). There are a few dozen names, found by
    /// stepping along the (action, occurred_at) index from one name to the next; the rows are then read by exact action, for
    /// which the planner has statistics, along the same index.
    /// </summary>
    private async Task<string[]> ActionsContainingAsync(string text, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var actions = await connection.QueryAsync<string>(new CommandDefinition("""
            with recursive actions(action) as (
                (select action from audit_log order by action limit 1)
                union all
                select (select next.action from audit_log next where next.action > actions.action order by next.action limit 1)
                from actions where actions.action is not null)
            select action from actions where action ilike @pattern
            """, new { pattern = $"%{ListText.EscapeLike(text)}%" }, cancellationToken: ct));
        return [.. actions];
    }
}
