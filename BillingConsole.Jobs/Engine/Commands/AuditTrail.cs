using System.Text.Json;
using BillingConsole.Domain.Audit;
using BillingConsole.Domain.Common;
using BillingConsole.Persistence;

namespace BillingConsole.Engine.Commands;

/// <summary>Who is acting: a console user with their role, an upstream API key, or the system itself (jobs, webhooks).</summary>
public sealed record Actor(string Name, string? Role)
{
    public static readonly Actor System = new("system", null);
    public static Actor ApiKey(string keyName) => new($"api:{keyName}", "api");
    /// <summary>The customer acting on their own pay page, reached through a link only they were sent.</summary>
    public static Actor Customer(Guid customerId) => new($"customer:{customerId}", "customer");
}

/// <summary>Adds audit entries to the current unit of work, so the record of a change commits with the change itself.</summary>
public sealed class AuditTrail(BillingDbContext db, TimeProvider clock)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The longest reason the audit log keeps (audit_log.reason).</summary>
    public const int MaxReasonLength = 1000;

    /// <summary>A person's change needs a reason, checked before anything is read or written.</summary>
    public static void RequireReason(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new DomainRuleException("Give a reason: it goes in the audit log.");
        if (reason.Length > MaxReasonLength) throw new DomainRuleException($"The reason is at most {MaxReasonLength} characters.");
        if (PlainText.Fault(reason) is not null) throw new DomainRuleException(PlainText.Explain(reason));
    }

    public void Record(Actor actor, string action, string entityType, Guid entityId, string reason, object? before = null, object? after = null) =>
        Record(actor, action, entityType, entityId.ToString(), reason, before, after);

    /// <summary>For entities named by something other than a Guid: a policy version, a setting's key.</summary>
    public void Record(Actor actor, string action, string entityType, string entityId, string reason, object? before = null, object? after = null) =>
        db.AuditLog.Add(new AuditEntry(actor.Name, actor.Role, action, entityType, entityId, reason,
            before is null ? null : JsonSerializer.Serialize(before, Json),
            after is null ? null : JsonSerializer.Serialize(after, Json),
            clock.GetUtcNow()));
}
