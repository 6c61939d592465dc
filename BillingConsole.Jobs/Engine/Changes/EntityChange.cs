namespace BillingConsole.Engine.Changes;

/// <summary>What kind of thing a committed change touched, as the console's pages group what they show.</summary>
public enum ChangedEntity
{
    Customer,
    Subscription,
    Invoice,
    Payment,
    DunningCase,
    BillingRun,
    Settings,
    DashboardFigures,
}

/// <summary>
/// One committed change, small enough to cross nodes: which entity (<paramref name="Id"/> is null for settings and the
/// dashboard figures) and, where known, the customer it belongs to, so a customer's pages can follow everything of theirs.
/// </summary>
public sealed record EntityChange(ChangedEntity Entity, Guid? Id = null, Guid? CustomerId = null)
{
    /// <summary>True when the change is known to belong to <paramref name="customerId"/> (false while that is not known yet).</summary>
    public bool BelongsTo(Guid? customerId) => customerId is { } id && CustomerId == id;
}
