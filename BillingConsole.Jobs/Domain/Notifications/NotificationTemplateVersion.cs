using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Notifications;

/// <summary>
/// An admin's saved version of one kind's template. The newest version of a kind is in force; a kind never saved uses the
/// template shipped with the product. Versions are never changed: a restore saves an older one again as the newest.
/// </summary>
public sealed class NotificationTemplateVersion
{
    private NotificationTemplateVersion() { }

    public NotificationTemplateVersion(string kind, int version, string subject, string html, string text, string createdBy, string reason,
        DateTimeOffset createdAt)
    {
        if (string.IsNullOrWhiteSpace(kind)) throw new ArgumentException("A template needs a kind.", nameof(kind));
        if (version < 1) throw new DomainRuleException("Template versions start at 1.");
        if (string.IsNullOrWhiteSpace(subject) || string.IsNullOrWhiteSpace(html) || string.IsNullOrWhiteSpace(text))
            throw new DomainRuleException("A template needs a subject, an HTML part and a plain-text part.");
        Kind = kind;
        Version = version;
        Subject = subject;
        Html = html;
        Text = text;
        CreatedBy = createdBy;
        Reason = reason;
        CreatedAt = createdAt;
    }

    public string Kind { get; private set; } = string.Empty;
    public int Version { get; private set; }
    public string Subject { get; private set; } = string.Empty;
    public string Html { get; private set; } = string.Empty;
    public string Text { get; private set; } = string.Empty;
    public string CreatedBy { get; private set; } = string.Empty;
    public string Reason { get; private set; } = string.Empty;
    public DateTimeOffset CreatedAt { get; private set; }
}
