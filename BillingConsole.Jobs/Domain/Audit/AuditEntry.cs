namespace BillingConsole.Domain.Audit;

/// <summary>Who did what to which record, when, why, and the record before and after (JSON).</summary>
public sealed class AuditEntry
{
    private AuditEntry() { }

    public AuditEntry(string actor, string? actorRole, string action, string entityType, string entityId, string reason,
        string? before, string? after, DateTimeOffset occurredAt)
    {
        if (string.IsNullOrWhiteSpace(actor)) throw new ArgumentException("An audit entry needs an actor.", nameof(actor));
        if (string.IsNullOrWhiteSpace(action)) throw new ArgumentException("An audit entry needs an action.", nameof(action));
        Actor = actor;
        ActorRole = actorRole;
        Action = action;
        EntityType = entityType;
        EntityId = entityId;
        Reason = reason;
        Before = before;
        After = after;
        OccurredAt = occurredAt;
    }

    public long Id { get; private set; }
    public string Actor { get; private set; } = string.Empty;
    public string? ActorRole { get; private set; }
    public string Action { get; private set; } = string.Empty;
    public string EntityType { get; private set; } = string.Empty;
    public string EntityId { get; private set; } = string.Empty;
    public string Reason { get; private set; } = string.Empty;
    public string? Before { get; private set; }
    public string? After { get; private set; }
    public DateTimeOffset OccurredAt { get; private set; }
}
