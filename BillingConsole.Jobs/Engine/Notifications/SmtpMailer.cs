using BillingConsole.Configuration;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace BillingConsole.Engine.Notifications;

/// <summary>Opens connections to the configured SMTP server (MailKit) and builds the MIME message of a notification.</summary>
public sealed class SmtpMailer(IOptionsMonitor<EmailOptions> options)
{
    /// <summary>A connection, signed in when a user is configured; the caller disposes it.</summary>
    public async Task<SmtpClient> ConnectAsync(CancellationToken ct)
    {
        var email = options.CurrentValue;
        var client = new SmtpClient { Timeout = email.TimeoutSeconds * 1000 };
        try
        {
            await client.ConnectAsync(email.Host, email.Port, email.Tls switch
            {
                EmailTlsMode.StartTls => SecureSocketOptions.StartTls,
                EmailTlsMode.SslOnConnect => SecureSocketOptions.SslOnConnect,
                _ => SecureSocketOptions.None,
            }, ct);
            if (!string.IsNullOrEmpty(email.User)) await client.AuthenticateAsync(email.User, email.Password, ct);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The message of notification <paramref name="id"/>: both parts, the attachment if any. Its Message-Id is made from the
    /// notification's id, so a message sent again after a crash carries the same id and can be recognised as the same email.
    /// </summary>
    public MimeMessage Build(Guid id, MailboxAddress to, RenderedNotification content, EmailAttachment? attachment)
    {
        var email = options.CurrentValue;
        var from = MailboxAddress.Parse(email.From);
        var message = new MimeMessage { Subject = content.Subject, MessageId = MessageIdOf(id, from) };
        message.From.Add(from);
        message.To.Add(to);
        if (!string.IsNullOrWhiteSpace(email.ReplyTo)) message.ReplyTo.Add(MailboxAddress.Parse(email.ReplyTo));
        var body = new BodyBuilder { HtmlBody = content.Html, TextBody = content.Text };
        if (attachment is not null) body.Attachments.Add(attachment.FileName, attachment.Content, ContentType.Parse(attachment.ContentType));
        message.Body = body.ToMessageBody();
        return message;
    }

    public static string MessageIdOf(Guid id, MailboxAddress from) => $"{id:N}@{from.Domain}";
}
