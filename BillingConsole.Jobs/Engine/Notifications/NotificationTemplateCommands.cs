using System.Globalization;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Notifications;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Engine.Notifications;

/// <summary>A kind's template as the settings page shows it; version 0 is the one shipped with the product.</summary>
public sealed record NotificationTemplateView(string Kind, int Version, NotificationTemplate Template, string CreatedBy, string Reason, DateTimeOffset? CreatedAt)
{
    public bool IsShipped => Version == 0;
}

/// <summary>
/// The admin's edits of notification templates, kept as versions per kind as the dunning policy keeps its own: every save,
/// a restore included, is a new version (the newest is in force), audited with the admin, the reason and the template before
/// and after. A template that does not render with the documented variables is refused with the part and place that fail.
/// </summary>
public sealed class NotificationTemplateCommands(BillingDbContext db, AuditTrail audit, TimeProvider clock)
{
    public const int ShippedVersion = 0;

    /// <summary>The template in force for <paramref name="kind"/>: its newest saved version, else the shipped one.</summary>
    public async Task<NotificationTemplateView> InForceAsync(string kind, CancellationToken ct) =>
        (await db.NotificationTemplates.AsNoTracking().Where(t => t.Kind == kind).OrderByDescending(t => t.Version).FirstOrDefaultAsync(ct)) is { } newest
            ? View(newest)
            : Shipped(kind);

    /// <summary>Every saved version of <paramref name="kind"/>, newest first, then the shipped one.</summary>
    public async Task<IReadOnlyList<NotificationTemplateView>> VersionsAsync(string kind, CancellationToken ct) =>
    [
        .. (await db.NotificationTemplates.AsNoTracking().Where(t => t.Kind == kind).OrderByDescending(t => t.Version).ToListAsync(ct)).Select(View),
        Shipped(kind),
    ];

    public async Task<NotificationTemplateView> SaveAsync(string kind, NotificationTemplate template, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        RequireKnown(kind);
        var problems = NotificationTemplates.Check(template);
        if (problems.Count > 0) throw new TemplateRenderException(problems);
        return await AddVersionAsync(kind, template, "notification_template.saved", actor, reason, ct);
    }

    /// <summary>Puts an older version (or the shipped template, version 0) back in force, as a new version.</summary>
    public async Task<NotificationTemplateView> RestoreAsync(string kind, int version, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        RequireKnown(kind);
        var restored = (await VersionsAsync(kind, ct)).FirstOrDefault(v => v.Version == version)
            ?? throw new DomainRuleException($"There is no version {version} of the {kind} template.");
        return await AddVersionAsync(kind, restored.Template, "notification_template.restored", actor, $"Restored version {version}: {reason}", ct);
    }

    private async Task<NotificationTemplateView> AddVersionAsync(string kind, NotificationTemplate template, string action, Actor actor, string reason,
        CancellationToken ct)
    {
        var current = await InForceAsync(kind, ct);
        var saved = new NotificationTemplateVersion(kind, current.Version + 1, template.Subject, template.Html, template.Text, actor.Name, reason,
            clock.GetUtcNow());
        db.NotificationTemplates.Add(saved);
        audit.Record(actor, action, "notification_template", $"{kind}:{saved.Version.ToString(CultureInfo.InvariantCulture)}", reason,
            current.Template, template);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            throw new DomainRuleException($"Another admin saved version {saved.Version} of this template a moment ago: reload the page and try again.");
        }
        finally
        {
            db.Entry(saved).State = EntityState.Detached;
        }
        return View(saved);
    }

    private static void RequireKnown(string kind)
    {
        if (!NotificationKinds.IsKnown(kind)) throw new DomainRuleException($"'{kind}' is not a kind of notification.");
    }

    private static NotificationTemplateView View(NotificationTemplateVersion v) =>
        new(v.Kind, v.Version, new NotificationTemplate(v.Subject, v.Html, v.Text), v.CreatedBy, v.Reason, v.CreatedAt);

    private static NotificationTemplateView Shipped(string kind) =>
        new(kind, ShippedVersion, NotificationTemplates.Default(kind), "product", "Shipped with the product.", null);
}
