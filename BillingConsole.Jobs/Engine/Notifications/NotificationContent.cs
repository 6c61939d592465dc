using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Notifications;
using BillingConsole.Engine.PayPage;
using BillingConsole.Pdf;
using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;

namespace BillingConsole.Engine.Notifications;

/// <summary>A notification made ready to send: to whom (null when the customer has no usable address), what, and the invoice PDF if it carries one.</summary>
public sealed record PreparedEmail(MailboxAddress? To, RenderedNotification Content, EmailAttachment? Attachment);

public sealed record EmailAttachment(string FileName, string ContentType, byte[] Content);

/// <summary>
/// Gathers what a notification says when it is sent: the customer, the invoice (amounts as they stand then, the next retry
/// of its open case), the customer's default card, a fresh update-card link and the seller; renders it with the kind's
/// template in force; attaches the invoice PDF to an invoice-issued email.
/// </summary>
public sealed class NotificationContent(
    BillingDbContext db,
    InvoiceDetails invoices,
    NotificationTemplateCommands templates,
    PayLinks payLinks,
    IOptionsMonitor<BillingOptions> billing,
    BillingCalendar billingCalendar)
{
    public async Task<PreparedEmail> PrepareAsync(Notification notification, CancellationToken ct)
    {
        var customer = await db.Customers.AsNoTracking().Include(c => c.PaymentMethods).SingleAsync(c => c.Id == notification.CustomerId, ct);
        var invoice = notification.InvoiceId is { } invoiceId ? await invoices.FindAsync(invoiceId, ct) : null;
        var variables = Variables(customer, invoice, await FinalActionAtAsync(invoice, notification.DunningCaseId, ct));
        var template = (await templates.InForceAsync(notification.Kind, ct)).Template;
        var attachment = notification.Kind == NotificationKinds.InvoiceIssued && invoice is not null
            ? new EmailAttachment($"{invoice.Number ?? invoice.Id.ToString()}.pdf", "application/pdf",
                InvoiceDocument.Render(invoice, billing.CurrentValue, billingCalendar))
            : null;
        return new PreparedEmail(Address(customer), NotificationTemplates.Render(template, variables), attachment);
    }

    /// <summary>
    /// The day of the final action of the dunning case the email is about, else of the invoice's open case, by the policy
    /// version the case follows; null without a case.
    /// </summary>
    private async Task<DateTimeOffset?> FinalActionAtAsync(InvoiceDetail? invoice, Guid? dunningCaseId, CancellationToken ct)
    {
        var dunningCase = invoice?.DunningCases.FirstOrDefault(c => c.Id == dunningCaseId) ?? invoice?.DunningCases.FirstOrDefault(c => c.ClosedAt is null);
        if (dunningCase is null) return null;
        var (_, policy) = new PoliciesInForce(await db.DunningPolicies.AsNoTracking().ToListAsync(ct)).For(dunningCase.PolicyVersion);
        return dunningCase.OpenedAt.AddDays(policy.FinalActionDay);
    }

    /// <summary>
    /// The values of the variables for this customer and invoice (none for an email about the account alone), and the day of
    /// the final action of its dunning case, if any.
    /// </summary>
    public NotificationVariables Variables(Customer customer, InvoiceDetail? invoice, DateTimeOffset? finalActionAt = null)
    {
        var seller = billing.CurrentValue;
        var calendar = customer.TimeZone is { } zone && BillingEngineExtensions.TryFindTimeZone(zone) is { } local ? new BillingCalendar(local) : billingCalendar;
        var card = customer.DefaultPaymentMethod;
        var payPage = payLinks.UrlFor(customer.Id, card?.Id);
        var nextRetry = invoice?.DunningCases.Where(c => c.ClosedAt is null && c.Status == "retry_pending").Select(c => c.NextAttemptAt).FirstOrDefault();
        return new NotificationVariables
        {
            CustomerName = customer.Name,
            CustomerEmail = customer.Email,
            InvoiceNumber = invoice?.Number ?? string.Empty,
            InvoiceUrl = invoice is null ? string.Empty : payPage,
            InvoiceStatus = invoice?.Status ?? string.Empty,
            InvoiceTotal = invoice is null ? string.Empty : Currencies.Format(new Money(invoice.Total, invoice.Currency)),
            AmountDue = invoice is null ? string.Empty : Currencies.Format(new Money(invoice.AmountDue, invoice.Currency)),
            AmountPaid = invoice is null ? string.Empty : Currencies.Format(new Money(invoice.AmountPaid, invoice.Currency)),
            DueDate = invoice?.DueAt is { } due ? calendar.FormatDate(due) : string.Empty,
            CardBrand = card is null ? string.Empty : BrandName(card.Brand),
            CardLast4 = card?.Last4 ?? string.Empty,
            CardExpiry = card is null ? string.Empty : $"{card.ExpMonth:00}/{card.ExpYear}",
            UpdateCardUrl = payPage,
            NextRetryDate = nextRetry is { } retry ? calendar.FormatDate(retry) : string.Empty,
            FinalActionDate = finalActionAt is { } finalAction ? calendar.FormatDate(finalAction) : string.Empty,
            SellerName = seller.SellerName,
            SellerAddress = string.Join(", ", seller.SellerAddress.Where(line => !string.IsNullOrWhiteSpace(line))),
            SellerTaxId = seller.SellerTaxId,
        };
    }

    /// <summary>The customer's address as a mailbox, or null when it is not one a mail server would take.</summary>
    public static MailboxAddress? Address(Customer customer) =>
        MailboxAddress.TryParse(customer.Email, out var address) && address.Address.Contains('@') && !address.Address.EndsWith('@')
            ? new MailboxAddress(customer.Name, address.Address)
            : null;

    private static string BrandName(string brand) => brand.Length == 0 ? brand : char.ToUpperInvariant(brand[0]) + brand[1..];
}
