using System.Text;
using BillingConsole.Domain.Notifications;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.Payments;
using BillingConsole.Jobs;
using BillingConsole.Persistence.Availability;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using UglyToad.PdfPig;

namespace BillingConsole.Tests.Engine.Notifications;

/// <summary>The outbox written with its events, and delivered to a real SMTP server in the test process.</summary>
public sealed class NotificationDeliveryTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private MigratedDatabase _database = null!;
    private TestSmtpServer _smtp = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("notifications");
        _smtp = TestSmtpServer.Start();
        _engine = EngineServices.Create(_database, settings: _smtp.Settings());
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        _smtp.Dispose();
        await _database.DisposeAsync();
    }

    private Task<DeliveryPass> DeliverAsync(EngineServices? engine = null) =>
        (engine ?? _engine).InScopeAsync<NotificationDelivery, DeliveryPass>(d => d.RunDueAsync(CancellationToken.None));

    private async Task<List<Notification>> NotificationsAsync(Guid customerId)
    {
        await using var db = _database.NewContext();
        return await db.Notifications.AsNoTracking().Where(n => n.CustomerId == customerId).OrderBy(n => n.CreatedAt).ThenBy(n => n.Kind).ToListAsync();
    }

    private Task<ChargeResult> ChargeAsync(Guid invoiceId) =>
        _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.Manual, Actor.System, CancellationToken.None));

    private async Task<int> RunCardExpiryJobAsync()
    {
        await using var scope = _engine.Services.CreateAsyncScope();
        return await ActivatorUtilities.CreateInstance<CardExpiryNoticeJob>(scope.ServiceProvider).RunAsync(CancellationToken.None);
    }

    private static string Part(MimeMessage message, string subtype) =>
        message.BodyParts.OfType<TextPart>().Single(p => p.ContentType.MediaSubtype == subtype && !p.IsAttachment).Text;

    [Fact]
    public async Task An_issued_invoice_is_emailed_with_both_parts_and_its_pdf_attached()
    {
        var (invoiceId, customerId) = await _engine.OpenInvoiceAsync(_data, "pm_ok_", amount: 49m);
        var notification = Assert.Single(await NotificationsAsync(customerId));
        Assert.Equal((NotificationKinds.InvoiceIssued, NotificationStatus.Pending, invoiceId), (notification.Kind, notification.Status, notification.InvoiceId));

        var pass = await DeliverAsync();

        Assert.Equal(new DeliveryPass(1, 0, 0), pass);
        var message = Assert.Single(_smtp.Messages);
        await using var db = _database.NewContext();
        var customer = await db.Customers.SingleAsync(c => c.Id == customerId, Ct);
        var invoice = await db.Invoices.SingleAsync(i => i.Id == invoiceId, Ct);
        Assert.Equal($"{notification.Id:N}@demo.example", message.MessageId);
        Assert.Equal("\"Demo Billing\" <billing@demo.example>", message.From.ToString());
        Assert.Equal(customer.Email, message.To.Mailboxes.Single().Address);
        Assert.Equal("support@demo.example", message.ReplyTo.Mailboxes.Single().Address);
        Assert.Equal($"Your invoice {invoice.Number} from BillingConsole Demo Ltd", message.Subject);
        Assert.Contains("Total:       $49.00", Part(message, "plain"));
        Assert.Contains($"Your invoice {invoice.Number}</h1>", Part(message, "html"));
        var attachment = Assert.Single(message.Attachments.OfType<MimePart>());
        Assert.Equal($"{invoice.Number}.pdf", attachment.FileName);
        using var pdfBytes = new MemoryStream();
        await attachment.Content!.DecodeToAsync(pdfBytes, Ct);
        using var pdf = PdfDocument.Open(pdfBytes.ToArray());
        var words = string.Concat(pdf.GetPages().SelectMany(p => p.GetWords()).Select(w => w.Text));
        Assert.Contains(invoice.Number!, words);
        Assert.Contains(customer.Name.Replace(" ", ""), words);
        var sent = Assert.Single(await NotificationsAsync(customerId));
        Assert.Equal((NotificationStatus.Sent, 1, customer.Email), (sent.Status, sent.Attempts, sent.Recipient));
        Assert.Equal(_engine.Clock.GetUtcNow(), sent.SentAt);
        Assert.Equal(new DeliveryPass(0, 0, 0), await DeliverAsync());
        Assert.Single(_smtp.Messages);
    }

    [Fact]
    public async Task A_declined_charge_writes_the_payment_failed_email_with_the_update_card_link_and_a_success_writes_the_receipt()
    {
        var (declinedInvoice, declinedCustomer) = await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_");
        var (paidInvoice, paidCustomer) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");

        Assert.Equal(ChargeStatus.Failed, (await ChargeAsync(declinedInvoice)).Status);
        Assert.Equal(ChargeStatus.Succeeded, (await ChargeAsync(paidInvoice)).Status);
        // Asking again changes nothing: the invoice is paid, and no second receipt is written.
        await ChargeAsync(paidInvoice);

        Assert.Equal([NotificationKinds.InvoiceIssued, NotificationKinds.PaymentFailed], (await NotificationsAsync(declinedCustomer)).Select(n => n.Kind));
        Assert.Equal([NotificationKinds.InvoiceIssued, NotificationKinds.PaymentReceived], (await NotificationsAsync(paidCustomer)).Select(n => n.Kind));
        await DeliverAsync();
        var failed = _smtp.Messages.Single(m => m.Subject!.StartsWith("Action needed", StringComparison.Ordinal));
        var text = Part(failed, "plain");
        Assert.Contains("$20.00", failed.Subject);
        Assert.Contains("Visa ending in 4242", text);
        Assert.Matches(@"http://127\.0\.0\.1:8080/pay/\S+", text);
        var receipt = _smtp.Messages.Single(m => m.Subject!.StartsWith("Receipt", StringComparison.Ordinal));
        Assert.Contains("Amount paid:  $20.00", Part(receipt, "plain"));
    }

    [Fact]
    public async Task The_billing_run_writes_one_invoice_email_and_one_outcome_email_per_invoice_in_its_batches()
    {
        var (_, price) = await _data.PlanAsync(30m);
        var subscriptions = await _data.DueSubscriptionsAsync(price, 6, "pm_ok_", "pm_insufficient_funds_");

        await _engine.RunBillingAsync();
        // A second run finds nothing due and writes nothing twice.
        await _engine.RunBillingAsync();

        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        var kinds = (await connection.QueryAsync<(string Kind, int Count)>(
            "select kind, count(*)::int from notifications group by kind order by kind")).ToList();
        Assert.Equal([(NotificationKinds.InvoiceIssued, 6), (NotificationKinds.PaymentFailed, 3), (NotificationKinds.PaymentReceived, 3)], kinds);
        Assert.Equal(6, await connection.ExecuteScalarAsync<int>("select count(distinct customer_id) from notifications"));
        Assert.Equal(subscriptions.Count, await connection.ExecuteScalarAsync<int>(
            "select count(*) from notifications n join invoices i on i.id = n.invoice_id where n.kind = 'invoice_issued' and i.billing_run_id is not null"));
    }

    [Fact]
    public async Task A_server_that_is_down_leaves_the_emails_pending_with_the_error_while_billing_goes_on_and_they_go_out_once_it_is_back()
    {
        var port = ConsoleAppHost.FreePort();
        await using var engine = EngineServices.Create(_database, _engine.Clock, settings: TestSmtpServer.SettingsFor(port));
        var (invoiceId, customerId) = await engine.OpenInvoiceAsync(_data, "pm_ok_");

        var pass = await DeliverAsync(engine);

        Assert.Equal(new DeliveryPass(0, 1, 0), pass);
        var waiting = Assert.Single(await NotificationsAsync(customerId));
        Assert.Equal(NotificationStatus.Pending, waiting.Status);
        Assert.Equal(1, waiting.Attempts);
        Assert.False(string.IsNullOrWhiteSpace(waiting.LastError));
        Assert.Equal(engine.Clock.GetUtcNow().AddMinutes(1), waiting.NextAttemptAt);
        // Billing does not wait for mail.
        Assert.Equal(ChargeStatus.Succeeded, (await engine.InScopeAsync<PaymentProcessor, ChargeResult>(p =>
            p.ChargeAsync(invoiceId, PaymentTrigger.Manual, Actor.System, CancellationToken.None))).Status);
        // The receipt written meanwhile is due and fails too; the invoice's email is not due again yet and is left alone.
        Assert.Equal(new DeliveryPass(0, 1, 0), await DeliverAsync(engine));
        Assert.Equal(1, (await NotificationsAsync(customerId)).Single(n => n.Kind == NotificationKinds.InvoiceIssued).Attempts);

        using var server = TestSmtpServer.StartOn(port);
        engine.Clock.Advance(TimeSpan.FromMinutes(1));
        var retried = await DeliverAsync(engine);

        Assert.Equal(new DeliveryPass(2, 0, 0), retried);
        Assert.Equal(2, server.Messages.Count);
        Assert.All(await NotificationsAsync(customerId), n => Assert.Equal(NotificationStatus.Sent, n.Status));
        Assert.All(await NotificationsAsync(customerId), n => Assert.Equal(2, n.Attempts));
    }

    [Fact]
    public async Task Two_nodes_delivering_at_once_send_every_email_exactly_once()
    {
        for (var i = 0; i < 12; i++) await _engine.OpenInvoiceAsync(_data, "pm_ok_");
        await using var second = EngineServices.Create(_database, _engine.Clock, settings: _smtp.Settings());

        var passes = await Task.WhenAll(Enumerable.Range(0, 4).Select(k => Task.Run(() => DeliverAsync(k % 2 == 0 ? _engine : second))));

        Assert.Equal(12, passes.Sum(p => p.Sent));
        var ids = _smtp.Messages.Select(m => m.MessageId).ToList();
        Assert.Equal(12, ids.Count);
        Assert.Equal(12, ids.Distinct().Count());
    }

    [Fact]
    public async Task An_email_still_unsent_past_the_give_up_hours_is_not_sent_as_too_late_and_a_younger_one_goes_out()
    {
        var (_, customerId) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");
        await using var strict = EngineServices.Create(_database, _engine.Clock,
            settings: new Dictionary<string, string?>(_smtp.Settings()) { ["Email:GiveUpAfterHours"] = "2" });

        _engine.Clock.Advance(TimeSpan.FromHours(1));
        var (_, youngerId) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");
        _engine.Clock.Advance(TimeSpan.FromHours(1.5));
        var pass = await DeliverAsync(strict);

        Assert.Equal(new DeliveryPass(1, 0, 1), pass);
        var tooLate = Assert.Single(await NotificationsAsync(customerId));
        Assert.Equal(NotificationStatus.NotSent, tooLate.Status);
        Assert.StartsWith(NotificationDelivery.TooLate, tooLate.LastError);
        Assert.Equal(NotificationStatus.Sent, Assert.Single(await NotificationsAsync(youngerId)).Status);
        Assert.Single(_smtp.Messages);
    }

    [Fact]
    public async Task A_customer_without_a_usable_address_is_shown_as_not_sent_instead_of_silence()
    {
        var (_, customerId) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");
        await using (var connection = await _database.DataSource.OpenConnectionAsync(Ct))
            await connection.ExecuteAsync("update customers set email = 'nobody@' where id = @customerId", new { customerId });

        var pass = await DeliverAsync();

        Assert.Equal(new DeliveryPass(0, 0, 1), pass);
        Assert.Empty(_smtp.Messages);
        var notSent = Assert.Single(await NotificationsAsync(customerId));
        Assert.Equal((NotificationStatus.NotSent, NotificationDelivery.NoAddress), (notSent.Status, notSent.LastError));
    }

    [Fact]
    public async Task Nothing_is_sent_while_the_node_is_read_only()
    {
        var (_, customerId) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");
        var state = _engine.Get<ReadOnlyState>();
        state.Enter("the database cannot be reached", _engine.Clock.GetUtcNow());

        Assert.Equal(new DeliveryPass(0, 0, 0), await DeliverAsync());
        Assert.Empty(_smtp.Messages);

        state.Leave();
        Assert.Equal(new DeliveryPass(1, 0, 0), await DeliverAsync());
        Assert.Equal(NotificationStatus.Sent, Assert.Single(await NotificationsAsync(customerId)).Status);
    }

    [Fact]
    public async Task No_more_than_the_per_minute_rate_is_sent_in_a_minute()
    {
        await using var slow = EngineServices.Create(_database, _engine.Clock,
            settings: new Dictionary<string, string?>(_smtp.Settings()) { ["Email:PerMinuteRate"] = "3" });
        for (var i = 0; i < 5; i++) await slow.OpenInvoiceAsync(_data, "pm_ok_");

        Assert.Equal(3, (await DeliverAsync(slow)).Sent);
        Assert.Equal(0, (await DeliverAsync(slow)).Sent);
        slow.Clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(2, (await DeliverAsync(slow)).Sent);
        Assert.Equal(5, _smtp.Messages.Select(m => m.MessageId).Distinct().Count());
    }

    [Fact]
    public async Task Support_resends_an_email_as_a_new_one_and_sends_the_card_update_link_both_audited()
    {
        var (_, customerId) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");
        await DeliverAsync();
        var original = Assert.Single(await NotificationsAsync(customerId));
        var agent = new Actor("agent@example.test", "support");

        await _engine.InScopeAsync<NotificationCommands>(c => c.ResendAsync(original.Id, agent, "Customer deleted it", CancellationToken.None));
        await _engine.InScopeAsync<NotificationCommands>(c => c.SendCardUpdateLinkAsync(customerId, agent, "Card replaced by bank", CancellationToken.None));
        await DeliverAsync();

        var all = await NotificationsAsync(customerId);
        Assert.Equal(3, all.Count);
        Assert.All(all, n => Assert.Equal(NotificationStatus.Sent, n.Status));
        Assert.Equal(2, all.Count(n => n.Kind == NotificationKinds.InvoiceIssued));
        var link = _smtp.Messages.Single(m => m.Subject == "Update your payment details for BillingConsole Demo Ltd");
        Assert.Matches(@"http://127\.0\.0\.1:8080/pay/\S+", Part(link, "plain"));
        Assert.Equal(3, _smtp.Messages.Select(m => m.MessageId).Distinct().Count());
        await using var db = _database.NewContext();
        var audit = await db.AuditLog.AsNoTracking().Where(a => a.Actor == agent.Name).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync(Ct);
        Assert.Equal(["notification.resent", "notification.card_update_link"], audit);
        await Assert.ThrowsAsync<BillingConsole.Domain.Common.DomainRuleException>(() =>
            _engine.InScopeAsync<NotificationCommands>(c => c.ResendAsync(original.Id, agent, " ", CancellationToken.None)));
    }

    [Fact]
    public async Task A_saved_template_is_used_from_the_next_email_on_an_invalid_one_is_refused_and_a_restore_brings_the_shipped_one_back()
    {
        var admin = new Actor("admin@example.test", "admin");
        var shipped = NotificationTemplates.Default(NotificationKinds.InvoiceIssued);

        var refused = await Assert.ThrowsAsync<TemplateRenderException>(() => _engine.InScopeAsync<NotificationTemplateCommands>(c =>
            c.SaveAsync(NotificationKinds.InvoiceIssued, shipped with { Subject = "Invoice {{ invoice_numbr }}" }, admin, "Shorter", CancellationToken.None)));
        Assert.Equal(NotificationTemplates.SubjectPart, Assert.Single(refused.Problems).Part);
        await _engine.InScopeAsync<NotificationTemplateCommands>(c =>
            c.SaveAsync(NotificationKinds.InvoiceIssued, shipped with { Subject = "Invoice {{ invoice_number }} is ready" }, admin, "Shorter", CancellationToken.None));

        var (_, customerId) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");
        await DeliverAsync();
        Assert.Matches(@"^Invoice INV-\d+ is ready$", Assert.Single(_smtp.Messages).Subject);

        var restored = await _engine.InScopeAsync<NotificationTemplateCommands, NotificationTemplateView>(c =>
            c.RestoreAsync(NotificationKinds.InvoiceIssued, NotificationTemplateCommands.ShippedVersion, admin, "Back to the default", CancellationToken.None));
        Assert.Equal((2, shipped), (restored.Version, restored.Template));
        var versions = await _engine.InScopeAsync<NotificationTemplateCommands, IReadOnlyList<NotificationTemplateView>>(c =>
            c.VersionsAsync(NotificationKinds.InvoiceIssued, CancellationToken.None));
        Assert.Equal([2, 1, 0], versions.Select(v => v.Version));
        await using var db = _database.NewContext();
        Assert.Equal(["notification_template.saved", "notification_template.restored"],
            await db.AuditLog.AsNoTracking().Where(a => a.Actor == admin.Name).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync(Ct));
        Assert.Single(await NotificationsAsync(customerId));
    }

    [Fact]
    public async Task A_test_goes_to_the_address_typed_rendered_from_the_edited_template_for_a_real_invoice_and_is_not_stored()
    {
        var (invoiceId, customerId) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");
        var edited = NotificationTemplates.Default(NotificationKinds.InvoiceIssued) with { Subject = "Edited: {{ invoice_number }}" };
        var before = (await NotificationsAsync(customerId)).Count;

        await _engine.InScopeAsync<NotificationCommands>(c => c.SendTestAsync(edited, invoiceId, "ada.admin@example.test", CancellationToken.None));

        var test = Assert.Single(_smtp.Messages);
        Assert.Equal("ada.admin@example.test", test.To.Mailboxes.Single().Address);
        await using var db = _database.NewContext();
        var number = await db.Invoices.Where(i => i.Id == invoiceId).Select(i => i.Number).SingleAsync(Ct);
        Assert.Equal($"[Test] Edited: {number}", test.Subject);
        Assert.Equal(before, (await NotificationsAsync(customerId)).Count);
    }

    [Fact]
    public async Task The_card_expiry_job_tells_each_customer_whose_default_card_expires_next_month_once()
    {
        var now = _engine.Clock.GetUtcNow();
        var expiring = await _data.CustomerAsync("pm_ok_");
        var later = await _data.CustomerAsync("pm_ok_");
        await using (var connection = await _database.DataSource.OpenConnectionAsync(Ct))
        {
            var next = now.AddMonths(1);
            await connection.ExecuteAsync("update payment_methods set exp_year = @year, exp_month = @month where customer_id = @id",
                new { year = next.Year, month = next.Month, id = expiring.Id });
        }

        var written = await RunCardExpiryJobAsync();
        var again = await RunCardExpiryJobAsync();
        await DeliverAsync();

        Assert.Equal((1, 0), (written, again));
        Assert.Empty(await NotificationsAsync(later.Id));
        var message = Assert.Single(_smtp.Messages);
        Assert.Equal("Your Visa ending in 4242 expires soon", message.Subject);
        Assert.Contains($"{now.AddMonths(1).Month:00}/{now.AddMonths(1).Year}", Part(message, "plain"));
    }
}
