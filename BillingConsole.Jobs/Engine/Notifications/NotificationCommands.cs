using BillingConsole.Domain.Common;
using BillingConsole.Domain.Notifications;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace BillingConsole.Engine.Notifications;

/// <summary>A notification as the customer and dunning case pages list it.</summary>
public sealed record NotificationRow(Guid Id, string Kind, string Status, string? Recipient, string? Subject, int Attempts, string? LastError,
    DateTimeOffset CreatedAt, DateTimeOffset? SentAt, DateTimeOffset? NextAttemptAt, Guid? InvoiceId, Guid? DunningCaseId);

/// <summary>
/// What support and admins do with notifications: list a customer's, send one again or send the card-update link (each a
/// new notification in the outbox, audited with a reason), and preview or test a template with a real invoice.
/// </summary>
public sealed class NotificationCommands(
    BillingDbContext db,
    NotificationContent content,
    InvoiceDetails invoices,
    SmtpMailer mailer,
    AuditTrail audit,
    TimeProvider clock)
{
    public const int ListLimit = 100;

    /// <summary>The customer's newest notifications, or those about one dunning case and its invoice.</summary>
    public async Task<IReadOnlyList<NotificationRow>> ListAsync(Guid customerId, Guid? dunningCaseId, CancellationToken ct)
    {
        var query = db.Notifications.AsNoTracking().Where(n => n.CustomerId == customerId);
        if (dunningCaseId is { } caseId)
        {
            var invoiceId = await db.DunningCases.Where(c => c.Id == caseId).Select(c => c.InvoiceId).SingleOrDefaultAsync(ct);
            query = query.Where(n => n.DunningCaseId == caseId || n.InvoiceId == invoiceId);
        }
        var rows = await query.OrderByDescending(n => n.CreatedAt).Take(ListLimit).ToListAsync(ct);
        return [.. rows.Select(n => new NotificationRow(n.Id, n.Kind, n.Status.ToSnakeCase(), n.Recipient, n.Subject, n.Attempts, n.LastError,
            n.CreatedAt, n.SentAt, n.NextAttemptAt, n.InvoiceId, n.DunningCaseId))];
    }

    /// <summary>The same email again, as a new notification; the original stays as it was.</summary>
    public async Task<Guid> ResendAsync(Guid notificationId, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        var original = await db.Notifications.AsNoTracking().FirstOrDefaultAsync(n => n.Id == notificationId, ct)
            ?? throw new ResourceNotFoundException("notification", notificationId);
        var again = original.Resend(clock.GetUtcNow());
        db.Notifications.Add(again);
        audit.Record(actor, "notification.resent", "customer", original.CustomerId,
            $"{NotificationKinds.Title(original.Kind)} sent again ({original.Id}): {reason}");
        await db.SaveChangesAsync(ct);
        return again.Id;
    }

    /// <summary>An email carrying a fresh link to the customer's payment page, where they can replace their card.</summary>
    public async Task<Guid> SendCardUpdateLinkAsync(Guid customerId, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        if (!await db.Customers.AnyAsync(c => c.Id == customerId, ct)) throw new ResourceNotFoundException("customer", customerId);
        var link = new Notification(customerId, NotificationKinds.CardUpdateLink, Guid.CreateVersion7().ToString(), null, null, clock.GetUtcNow());
        db.Notifications.Add(link);
        audit.Record(actor, "notification.card_update_link", "customer", customerId, reason);
        await db.SaveChangesAsync(ct);
        return link.Id;
    }

    /// <summary>
    /// <paramref name="template"/> rendered for a real invoice: the one given, else the newest issued one. Throws
    /// <see cref="TemplateRenderException"/> when it does not render.
    /// </summary>
    public async Task<RenderedNotification> PreviewAsync(NotificationTemplate template, Guid? invoiceId, CancellationToken ct) =>
        NotificationTemplates.Render(template, await SampleVariablesAsync(invoiceId, ct));

    /// <summary>Sends <paramref name="template"/> rendered for a real invoice to <paramref name="to"/> now, outside the outbox (nothing is stored).</summary>
    public async Task SendTestAsync(NotificationTemplate template, Guid? invoiceId, string to, CancellationToken ct)
    {
        if (!MailboxAddress.TryParse(to, out var address)) throw new DomainRuleException($"'{to}' is not an email address.");
        var rendered = await PreviewAsync(template, invoiceId, ct);
        var message = mailer.Build(Guid.CreateVersion7(), address, rendered with { Subject = $"[Test] {rendered.Subject}" }, null);
        using var smtp = await mailer.ConnectAsync(ct);
        await smtp.SendAsync(message, ct);
        await smtp.DisconnectAsync(true, ct);
    }

    private async Task<NotificationVariables> SampleVariablesAsync(Guid? invoiceId, CancellationToken ct)
    {
        var id = invoiceId ?? await db.Invoices.AsNoTracking().Where(i => i.IssuedAt != null).OrderByDescending(i => i.IssuedAt)
            .Select(i => (Guid?)i.Id).FirstOrDefaultAsync(ct);
        var invoice = id is { } found ? await invoices.FindAsync(found, ct) : null;
        if (invoice is null) return NotificationVariables.Sample;
        var customer = await db.Customers.AsNoTracking().Include(c => c.PaymentMethods).SingleAsync(c => c.Id == invoice.CustomerId, ct);
        return content.Variables(customer, invoice);
    }
}
