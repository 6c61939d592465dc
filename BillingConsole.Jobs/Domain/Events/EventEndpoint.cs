using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Events;

/// <summary>
/// A receiver of the business's other systems that outgoing events are posted to: its URL, the event types it wants and the
/// secret its deliveries are signed with. A disabled endpoint keeps its pending deliveries until it is enabled again.
/// </summary>
public sealed class EventEndpoint : Entity
{
    private EventEndpoint() { }

    public EventEndpoint(Uri url, IReadOnlyCollection<string> eventTypes, string sealedSecret, string? description, string createdBy, DateTimeOffset createdAt)
    {
        if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")) throw new DomainRuleException("An endpoint's URL starts with https:// (or http://).");
        if (eventTypes.Count == 0) throw new DomainRuleException("An endpoint wants at least one event type.");
        if (string.IsNullOrWhiteSpace(sealedSecret)) throw new ArgumentException("An endpoint needs a signing secret.", nameof(sealedSecret));
        Url = url.AbsoluteUri;
        EventTypes = [.. eventTypes.Distinct().Order(StringComparer.Ordinal)];
        SealedSecret = sealedSecret;
        Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim();
        CreatedBy = createdBy;
        CreatedAt = createdAt;
    }

    public string Url { get; private set; } = string.Empty;
    public string[] EventTypes { get; private set; } = [];
    /// <summary>
    /// The secret that signs every delivery, sealed (encrypted and authenticated) by the engine before it is stored: the
    /// database never holds it in clear. Shown to the admin once, when the endpoint is registered.
    /// </summary>
    public string SealedSecret { get; private set; } = string.Empty;
    public string? Description { get; private set; }
    public bool Enabled { get; private set; } = true;
    /// <summary>Why it is disabled (an admin's reason, or the failures that disabled it).</summary>
    public string? DisabledReason { get; private set; }
    public DateTimeOffset? DisabledAt { get; private set; }
    public string CreatedBy { get; private set; } = string.Empty;
    public DateTimeOffset CreatedAt { get; private set; }

    public void Disable(string reason, DateTimeOffset at)
    {
        if (!Enabled) throw new DomainRuleException("This endpoint is already disabled.");
        Enabled = false;
        DisabledReason = reason.Length > 1000 ? reason[..1000] : reason;
        DisabledAt = at;
    }

    public void Enable()
    {
        if (Enabled) throw new DomainRuleException("This endpoint is already enabled.");
        Enabled = true;
        DisabledReason = null;
        DisabledAt = null;
    }
}
