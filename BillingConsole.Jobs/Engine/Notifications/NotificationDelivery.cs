using BillingConsole.Configuration;
using BillingConsole.Domain.Notifications;
using BillingConsole.Persistence;
using BillingConsole.Persistence.Availability;
using MailKit;
using MailKit.Net.Smtp;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Notifications;

/// <summary>What one delivery pass did.</summary>
public sealed record DeliveryPass(int Sent, int Failed, int NotSent);

/// <summary>
/// Delivers the pending notifications that are due, within the per-minute rate. Each is claimed with FOR UPDATE SKIP LOCKED
/// in a transaction of its own that stays open while it is sent and commits right after the server accepted it: two nodes
/// never send the same row, and only a crash between the server's acceptance and that commit can send it again (under the
/// same Message-Id; docs/notifications.md states the guarantee). A failure is stored with the row and tried again later;
/// a server that cannot be reached ends the pass, leaving the rest pending. Nothing is sent while the node is read-only.
/// </summary>
public sealed class NotificationDelivery(
    BillingDbContext db,
    NotificationContent content,
    SmtpMailer mailer,
    ReadOnlyState readOnly,
    IOptionsMonitor<EmailOptions> options,
    TimeProvider clock,
    ILogger<NotificationDelivery> logger)
{
    public const string NoAddress = "no address";
    public const string TooLate = "too late";

    public async Task<DeliveryPass> RunDueAsync(CancellationToken ct)
    {
        int sent = 0, failed = 0, notSent = 0;
        if (readOnly.IsReadOnly) return new DeliveryPass(sent, failed, notSent);
        notSent += await GiveUpLateAsync(ct);
        var budget = options.CurrentValue.PerMinuteRate - await SentInLastMinuteAsync(ct);
        SmtpClient? smtp = null;
        try
        {
            while (sent + failed < budget && !readOnly.IsReadOnly && !ct.IsCancellationRequested)
            {
                db.ChangeTracker.Clear();
                await using var transaction = await db.Database.BeginTransactionAsync(ct);
                var now = clock.GetUtcNow();
                var notification = await db.Notifications.FromSqlInterpolated($"""
                    select * from notifications
                    where status = 'pending' and next_attempt_at <= {now}
                      and (select c.test_clock_id from customers c where c.id = notifications.customer_id) is not distinct from {EngineClock.TestClockId}::uuid
                    order by next_attempt_at
                    limit 1
                    for update skip locked
                    """).SingleOrDefaultAsync(ct);
                if (notification is null) break;

                var stop = false;
                try
                {
                    var email = await content.PrepareAsync(notification, ct);
                    if (email.To is null)
                    {
                        notification.MarkNotSent(NoAddress);
                        notSent++;
                    }
                    else
                    {
                        var message = mailer.Build(notification.Id, email.To, email.Content, email.Attachment);
                        smtp ??= await mailer.ConnectAsync(ct);
                        await smtp.SendAsync(message, ct);
                        notification.MarkSent(email.To.Address, email.Content.Subject, clock.GetUtcNow());
                        sent++;
                    }
                }
                catch (TemplateRenderException e)
                {
                    notification.RecordFailure($"The template does not render: {e.Message}", now);
                    failed++;
                }
                catch (Exception e) when (e is SmtpCommandException { ErrorCode: SmtpErrorCode.RecipientNotAccepted })
                {
                    notification.RecordFailure(e.Message, now);
                    failed++;
                }
                catch (Exception e) when (e is SmtpCommandException or SmtpProtocolException or ServiceNotConnectedException
                                              or ServiceNotAuthenticatedException or MailKit.Security.AuthenticationException
                                              or System.Net.Sockets.SocketException or IOException or TimeoutException)
                {
                    // The server is down or refusing: this one waits with its error, and so do the rest until the next pass.
                    logger.LogWarning("Sending notification {NotificationId} failed: {Error}", notification.Id, e.Message);
                    notification.RecordFailure(e.Message, now);
                    failed++;
                    stop = true;
                }
                await db.SaveChangesAsync(CancellationToken.None);
                await transaction.CommitAsync(CancellationToken.None);
                if (stop) break;
            }
        }
        finally
        {
            if (smtp is not null)
            {
                if (smtp.IsConnected) await Quietly(() => smtp.DisconnectAsync(true, CancellationToken.None));
                smtp.Dispose();
            }
        }
        return new DeliveryPass(sent, failed, notSent);
    }

    /// <summary>The pending emails older than <see cref="EmailOptions.GiveUpAfterHours"/>, marked not sent in one statement.</summary>
    private Task<int> GiveUpLateAsync(CancellationToken ct)
    {
        var hours = options.CurrentValue.GiveUpAfterHours;
        var cutoff = clock.GetUtcNow().AddHours(-hours);
        var reason = $"{TooLate}: still unsent {hours} hours after its event (Email:GiveUpAfterHours).";
        return db.Database.ExecuteSqlAsync($"""
            update notifications set status = 'not_sent', last_error = {reason}, next_attempt_at = null
            where status = 'pending' and created_at < {cutoff}
              and customer_id in (select id from customers where test_clock_id = {EngineClock.TestClockId}
                                  or ({EngineClock.TestClockId}::uuid is null and test_clock_id is null))
            """, ct);
    }

    private Task<int> SentInLastMinuteAsync(CancellationToken ct)
    {
        var since = clock.GetUtcNow().AddMinutes(-1);
        return db.Notifications.CountAsync(n => n.Status == NotificationStatus.Sent && n.SentAt > since, ct);
    }

    private static async Task Quietly(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception e) when (e is IOException or SmtpProtocolException or SmtpCommandException)
        {
            // The messages are sent and recorded; a failed goodbye changes nothing.
        }
    }
}
