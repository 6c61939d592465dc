using BillingConsole.ReadModels;

namespace BillingConsole.Components.Pages.Audit;

/// <summary>Where an audit entry's entity is shown in the console, and what to call it there.</summary>
public static class AuditEntities
{
    private static readonly Dictionary<string, string> Pages = new()
    {
        ["customer"] = "/customers/", ["subscription"] = "/subscriptions/", ["invoice"] = "/invoices/",
        ["dunning_case"] = "/dunning/", ["billing_run"] = "/billing-runs/",
    };

    /// <summary>The entity's console page; null for entities that have none (settings, API keys) or an id that is not one of ours.</summary>
    public static string? PageOf(string entityType, string entityId) =>
        Pages.TryGetValue(entityType, out var path) && Guid.TryParse(entityId, out var id) ? path + id : null;

    /// <summary>The entity's name or number when it has one, otherwise the start of its id, which is enough to tell rows apart.</summary>
    public static string Label(AuditRow row) => row.EntityLabel is { Length: > 0 } label ? label : row.EntityId[..Math.Min(8, row.EntityId.Length)] + "…";
}
