using BillingConsole.Domain.Tax;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using BillingConsole.Api.Webhooks;
using BillingConsole.Engine.Signing;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using FsCheck.Xunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static BillingConsole.Tests.Infrastructure.WebhookEvents;

namespace BillingConsole.Tests.Api;

/// <summary>POST /hooks/sandbox over real HTTP against the shared host, each test with its own invoice and attempt.</summary>
public sealed class WebhookTests(ConsoleAppHost host)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static BillingDbContext NewContext() => TestDatabases.NewContext(TestServers.DefaultConnectionString);
    private DateTimeOffset Now => host.Services.GetRequiredService<TimeProvider>().GetUtcNow();

    /// <summary>An open invoice with attempt 1 pending at the gateway, as a charge leaves it before its answer.</summary>
    private async Task<(Guid InvoiceId, string Key)> PendingAttemptAsync(string? tokenPrefix = null)
    {
        var data = new BillingTestData(NewContext, Now);
        var (plan, price) = await data.PlanAsync(20m);
        var customer = await data.CustomerAsync(tokenPrefix);
        var subscription = await data.SubscriptionAsync(customer, price);
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
        var tracked = await db.Customers.SingleAsync(c => c.Id == customer.Id, Ct);
        var snapshot = BillableSubscription.From(subscription, BillablePrice.From(plan, price), null);
        var generated = scope.ServiceProvider.GetRequiredService<InvoiceGenerator>().Generate(snapshot, [], tracked.CreditBalance, InvoiceTax.None, data.Now)!;
        var invoice = await scope.ServiceProvider.GetRequiredService<InvoiceIssuer>().IssueAsync(tracked, generated, null, Ct);
        invoice.RecordAttempt();
        var attempt = new PaymentAttempt(invoice.Id, invoice.CustomerId, null, invoice.AttemptCount, invoice.AmountDue, "sandbox",
            PaymentTrigger.BillingRun, data.Now);
        db.PaymentAttempts.Add(attempt);
        await db.SaveChangesAsync(Ct);
        return (invoice.Id, attempt.IdempotencyKey);
    }

    private Task<HttpResponseMessage> PostAsync(string body, string signature, string? sentBody = null) =>
        PostAsync(Encoding.UTF8.GetBytes(sentBody ?? body), signature);

    /// <summary>The body exactly as given, bytes that are not UTF-8 included.</summary>
    private async Task<HttpResponseMessage> PostAsync(byte[] body, string signature)
    {
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/sandbox") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(WebhookSignature.Header, signature);
        return await client.SendAsync(request, Ct);
    }

    private Task<HttpResponseMessage> PostSignedAsync(string body) => PostAsync(body, Signature(body, Now));

    private static async Task<(InvoiceStatus Status, int CashEntries, PaymentAttemptStatus Attempt)> StateAsync(Guid invoiceId)
    {
        await using var db = NewContext();
        var invoice = await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId, Ct);
        var cash = await db.LedgerEntries.CountAsync(e => e.InvoiceId == invoiceId && e.Account == LedgerAccount.Cash, Ct);
        var attempt = await db.PaymentAttempts.AsNoTracking().SingleAsync(a => a.InvoiceId == invoiceId, Ct);
        return (invoice.Status, cash, attempt.Status);
    }

    private static async Task<int> RejectionsAsync()
    {
        await using var db = NewContext();
        return await db.WebhookRejections.CountAsync(r => r.Gateway == "sandbox", Ct);
    }

    /// <summary>Sends a refused delivery and checks that only a rejection row came of it.</summary>
    private async Task AssertRefusedAsync(Guid invoiceId, string body, string signature, string? sentBody = null)
    {
        var rejections = await RejectionsAsync();
        using var response = await PostAsync(body, signature, sentBody);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(rejections + 1, await RejectionsAsync());
        Assert.Equal((InvoiceStatus.Open, 0, PaymentAttemptStatus.Pending), await StateAsync(invoiceId));
        await using var db = NewContext();
        Assert.False(await db.WebhookEvents.AnyAsync(e => body.Contains(e.EventId), Ct));
    }

    private async Task<(Guid InvoiceId, string Body)> SuccessEventAsync()
    {
        var (invoiceId, key) = await PendingAttemptAsync();
        return (invoiceId, Event("payment_intent.succeeded", key));
    }

    [Fact]
    public async Task A_signed_success_event_pays_the_invoice_and_posts_cash()
    {
        var (invoiceId, body) = await SuccessEventAsync();
        using var response = await PostSignedAsync(body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (status, cash, attempt) = await StateAsync(invoiceId);
        Assert.Equal(InvoiceStatus.Paid, status);
        Assert.Equal(PaymentAttemptStatus.Succeeded, attempt);
        Assert.True(cash > 0);
    }

    [Fact]
    public async Task A_tampered_body_is_refused_logged_and_changes_nothing()
    {
        var (invoiceId, body) = await SuccessEventAsync();
        var tampered = body.Replace("succeeded", "succeeded ", StringComparison.Ordinal);
        await AssertRefusedAsync(invoiceId, body, Signature(body, Now), sentBody: tampered);
        var logged = host.Logs.Logger.Entries.Where(e => e.Message == WebhookEndpoints.SignatureFailedMessage).ToList();
        Assert.Contains(logged, e => Equals(e.Properties.GetValueOrDefault("Gateway"), "sandbox")
            && Equals(e.Properties.GetValueOrDefault("Reason"), "signature mismatch"));
        Assert.DoesNotContain(logged.SelectMany(e => e.Properties.Values), v => v?.ToString()?.Contains(ConsoleAppHost.WebhookSecret, StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task A_signature_made_with_another_secret_is_refused()
    {
        var (invoiceId, body) = await SuccessEventAsync();
        await AssertRefusedAsync(invoiceId, body, Signature(body, Now, secret: "whsec_someone_else"));
    }

    [Fact]
    public async Task A_timestamp_older_than_the_tolerance_is_refused()
    {
        var (invoiceId, body) = await SuccessEventAsync();
        await AssertRefusedAsync(invoiceId, body, Signature(body, Now.AddSeconds(-301)));
    }

    [Fact]
    public async Task A_replayed_event_is_answered_200_and_applied_once()
    {
        var (invoiceId, body) = await SuccessEventAsync();
        using (var first = await PostSignedAsync(body)) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var afterFirst = await StateAsync(invoiceId);
        using (var again = await PostSignedAsync(body)) Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(afterFirst, await StateAsync(invoiceId));
        Assert.Equal(InvoiceStatus.Paid, afterFirst.Status);
    }

    [Fact]
    public async Task A_failure_arriving_after_the_success_leaves_the_invoice_paid()
    {
        var (invoiceId, key) = await PendingAttemptAsync();
        using (var succeeded = await PostSignedAsync(Event("payment_intent.succeeded", key))) Assert.Equal(HttpStatusCode.OK, succeeded.StatusCode);
        var paid = await StateAsync(invoiceId);
        var lateId = "evt_" + Guid.NewGuid().ToString("N");
        using (var failed = await PostSignedAsync(Event("payment_intent.payment_failed", key, lateId, declineCode: "insufficient_funds")))
            Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        Assert.Equal(paid, await StateAsync(invoiceId));
        Assert.Equal((InvoiceStatus.Paid, PaymentAttemptStatus.Succeeded), (paid.Status, paid.Attempt));
        await using var db = NewContext();
        var stored = await db.WebhookEvents.AsNoTracking().SingleAsync(e => e.Gateway == "sandbox" && e.EventId == lateId, Ct);
        Assert.Null(stored.ProcessedAt);
    }

    /// <summary>
    /// What a payment left behind on one invoice: the invoice, its attempts' statuses and its dunning cases' (in order, comma
    /// separated, so two readings compare by value), its cash and its subscription.
    /// </summary>
    private sealed record Settlement(InvoiceStatus Invoice, decimal AmountPaid, decimal Total, string Attempts, decimal CashReceived,
        int PaymentTransactions, decimal RefundsPayable, bool LedgerBalanced, string Cases, string? Subscription);

    private static async Task<Settlement> SettlementAsync(Guid invoiceId)
    {
        await using var db = NewContext();
        var invoice = await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId, Ct);
        var attempts = await db.PaymentAttempts.AsNoTracking().Where(a => a.InvoiceId == invoiceId).OrderBy(a => a.AttemptNumber).Select(a => a.Status).ToListAsync(Ct);
        var ledger = await db.LedgerEntries.AsNoTracking().Where(e => e.InvoiceId == invoiceId).ToListAsync(Ct);
        var cases = await db.DunningCases.AsNoTracking().Where(c => c.InvoiceId == invoiceId).OrderBy(c => c.OpenedAt).Select(c => c.Status).ToListAsync(Ct);
        var subscription = await db.Subscriptions.AsNoTracking().SingleOrDefaultAsync(x => x.Id == invoice.SubscriptionId, Ct);
        return new Settlement(invoice.Status, invoice.AmountPaid.Amount, invoice.Total.Amount, string.Join(",", attempts),
            ledger.Where(e => e.Account == LedgerAccount.Cash).Sum(e => e.Debit - e.Credit),
            ledger.Where(e => e.Kind == LedgerTransactionKind.Payment).Select(e => e.TransactionId).Distinct().Count(),
            ledger.Where(e => e.Account == LedgerAccount.RefundsPayable).Sum(e => e.Credit - e.Debit),
            ledger.GroupBy(e => e.TransactionId).All(t => t.Sum(e => e.Debit) == t.Sum(e => e.Credit)),
            string.Join(",", cases), subscription?.Status.ToString());
    }

    private async Task<string?> PostedStatusAsync(string body)
    {
        using var response = await PostSignedAsync(body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))?["status"]?.GetValue<string>();
    }

    private static async Task<string[]> AuditActionsAsync(Guid invoiceId)
    {
        await using var db = NewContext();
        return await db.AuditLog.AsNoTracking().Where(a => a.EntityId == invoiceId.ToString()).OrderBy(a => a.Id).Select(a => a.Action).ToArrayAsync(Ct);
    }

    [Theory]
    [InlineData("payment_intent.payment_failed", "payment_intent.succeeded")]
    [InlineData("payment_intent.succeeded", "payment_intent.payment_failed")]
    public async Task Failure_and_success_of_one_payment_in_either_order_pay_the_invoice_once_and_leave_no_case_open(string first, string second)
    {
        var (invoiceId, key) = await PendingAttemptAsync();
        var intent = "pi_" + Guid.NewGuid().ToString("N");
        Assert.Equal("applied", await PostedStatusAsync(Event(first, key, declineCode: "authentication_required", objectId: intent)));
        await PostedStatusAsync(Event(second, key, declineCode: "authentication_required", objectId: intent));

        var settled = await SettlementAsync(invoiceId);
        Assert.Equal((InvoiceStatus.Paid, settled.Total, 1, settled.Total, 0m, true),
            (settled.Invoice, settled.AmountPaid, settled.PaymentTransactions, settled.CashReceived, settled.RefundsPayable, settled.LedgerBalanced));
        // A failure first opens a case and makes the subscription past due; the success then recovers both.
        Assert.Equal(("Succeeded", first == "payment_intent.succeeded" ? "" : "Recovered", "Active"), (settled.Attempts, settled.Cases, settled.Subscription));
    }

    [Fact]
    public async Task A_success_after_a_failure_is_applied_and_audited()
    {
        var (invoiceId, key) = await PendingAttemptAsync();
        Assert.Equal("applied", await PostedStatusAsync(Event("payment_intent.payment_failed", key, declineCode: "insufficient_funds")));
        Assert.Equal("RetryPending", (await SettlementAsync(invoiceId)).Cases);

        Assert.Equal("applied", await PostedStatusAsync(Event("payment_intent.succeeded", key)));

        Assert.Equal("Recovered", (await SettlementAsync(invoiceId)).Cases);
        Assert.Contains("payment.succeeded_after_failure", await AuditActionsAsync(invoiceId));
    }

    [Fact]
    public async Task A_success_for_an_invoice_another_attempt_paid_is_held_for_refund_and_shown_to_support()
    {
        var (invoiceId, key) = await PendingAttemptAsync(tokenPrefix: "pm_ok_");
        Assert.Equal("applied", await PostedStatusAsync(Event("payment_intent.payment_failed", key, declineCode: "insufficient_funds")));
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var retried = await scope.ServiceProvider.GetRequiredService<PaymentProcessor>().ChargeAsync(invoiceId, PaymentTrigger.Manual, Actor.System, Ct);
            Assert.Equal((ChargeStatus.Succeeded, 2), (retried.Status, retried.AttemptNumber));
        }
        var paid = await SettlementAsync(invoiceId);

        var reference = "pi_" + Guid.NewGuid().ToString("N");
        Assert.Equal("applied", await PostedStatusAsync(Event("payment_intent.succeeded", key, objectId: reference)));

        var settled = await SettlementAsync(invoiceId);
        Assert.Equal((InvoiceStatus.Paid, paid.Total, "RefundDue,Succeeded", 1, 2 * paid.Total, paid.Total, true, "Recovered"),
            (settled.Invoice, settled.AmountPaid, settled.Attempts, settled.PaymentTransactions, settled.CashReceived, settled.RefundsPayable,
                settled.LedgerBalanced, settled.Cases));
        Assert.Contains("payment.refund_due", await AuditActionsAsync(invoiceId));

        var detail = await host.Services.GetRequiredService<InvoiceDetails>().FindAsync(invoiceId, Ct);
        var shown = Assert.Single(detail!.PaymentsToRefund);
        Assert.Equal((1, paid.Total, reference), (shown.AttemptNumber, shown.Amount, shown.GatewayReference));
        var (count, latest) = await host.Services.GetRequiredService<OperationsStatus>().PaymentsToRefundAsync(Ct);
        Assert.True(count >= 1);
        Assert.Contains(latest, row => row.InvoiceId == invoiceId && row.AttemptNumber == 1 && row.Amount == paid.Total);

        // Reported again under another event id, or followed by a late failure: nothing more is recorded.
        Assert.Equal("ignored", await PostedStatusAsync(Event("payment_intent.succeeded", key, objectId: reference)));
        Assert.Equal("ignored", await PostedStatusAsync(Event("payment_intent.payment_failed", key, declineCode: "insufficient_funds", objectId: reference)));
        Assert.Equal(settled, await SettlementAsync(invoiceId));
    }

    [Fact]
    public async Task A_success_for_a_voided_invoice_is_held_for_refund_and_a_written_off_one_is_paid_late()
    {
        var (voidedId, voidedKey) = await PendingAttemptAsync();
        var (writtenOffId, writtenOffKey) = await PendingAttemptAsync();
        foreach (var key in new[] { voidedKey, writtenOffKey })
            await PostedStatusAsync(Event("payment_intent.payment_failed", key, declineCode: "insufficient_funds"));
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var invoices = scope.ServiceProvider.GetRequiredService<InvoiceCommands>();
            var admin = new Actor("admin@example.test", "admin");
            await invoices.VoidAsync(voidedId, admin, "Sold in error.", Ct);
            await invoices.MarkUncollectibleAsync(writtenOffId, admin, "Customer unreachable.", Ct);
        }

        Assert.Equal("applied", await PostedStatusAsync(Event("payment_intent.succeeded", voidedKey)));
        Assert.Equal("applied", await PostedStatusAsync(Event("payment_intent.succeeded", writtenOffKey)));

        var voided = await SettlementAsync(voidedId);
        Assert.Equal((InvoiceStatus.Void, 0m, "RefundDue", voided.Total, voided.Total, true),
            (voided.Invoice, voided.AmountPaid, voided.Attempts, voided.CashReceived, voided.RefundsPayable, voided.LedgerBalanced));
        var writtenOff = await SettlementAsync(writtenOffId);
        Assert.Equal((InvoiceStatus.Paid, writtenOff.Total, "Succeeded", writtenOff.Total, 0m, true),
            (writtenOff.Invoice, writtenOff.AmountPaid, writtenOff.Attempts, writtenOff.CashReceived, writtenOff.RefundsPayable, writtenOff.LedgerBalanced));
    }

    [Fact]
    public async Task A_failure_event_records_the_decline_on_a_pending_attempt()
    {
        var (invoiceId, key) = await PendingAttemptAsync();
        using var response = await PostSignedAsync(Event("payment_intent.payment_failed", key, declineCode: "insufficient_funds"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((InvoiceStatus.Open, 0, PaymentAttemptStatus.Failed), await StateAsync(invoiceId));
        await using var db = NewContext();
        Assert.Equal("insufficient_funds", (await db.PaymentAttempts.AsNoTracking().SingleAsync(a => a.InvoiceId == invoiceId, Ct)).DeclineCode);
    }

    [Fact]
    public async Task Malformed_json_with_a_valid_signature_is_refused()
    {
        const string body = """{"id":"evt_broken","type":""";
        using var response = await PostSignedAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    public static TheoryData<string, byte[]> UnstorableEvents => new()
    {
        { "NUL", "\"description\":\"paid\\u0000in full\""u8.ToArray() },
        { "surrogate", "\"description\":\"x\\ud800y\""u8.ToArray() },
        { "surrogate", "\"description\":\"\\udc00\""u8.ToArray() },
        { "UTF-8", [.. "\"description\":\"caf"u8, 0xC3, 0x28, .. "\""u8] },
    };

    [Theory]
    [MemberData(nameof(UnstorableEvents))]
    public async Task A_signed_success_carrying_text_PostgreSQL_cannot_store_is_refused_recorded_and_changes_nothing(string what, byte[] field)
    {
        var (invoiceId, key) = await PendingAttemptAsync();
        var id = "evt_" + Guid.NewGuid().ToString("N");
        byte[] body = [.. Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","metadata":{"idempotency_key":"{{key}}"},"""),
            .. field, .. "}}}"u8];
        var rejections = await RejectionsAsync();

        using var response = await PostAsync(body, Signature(body, Now));

        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(text.Contains(what, StringComparison.Ordinal), text);
        Assert.Equal(rejections + 1, await RejectionsAsync());
        var reason = await LatestRejectionReasonAsync();
        Assert.Contains(what, reason);
        Assert.Null(PlainText.Fault(reason));
        Assert.Equal((InvoiceStatus.Open, 0, PaymentAttemptStatus.Pending), await StateAsync(invoiceId));
        await using var db = NewContext();
        Assert.False(await db.WebhookEvents.AnyAsync(e => e.EventId == id, Ct));
    }

    [Property(MaxTest = 60, Arbitrary = [typeof(HostileText)])]
    public async Task Any_text_in_a_signed_event_is_stored_or_refused_and_recorded_never_a_5xx(HostileText hostile)
    {
        var id = "evt_" + Guid.NewGuid().ToString("N");
        var body = hostile.Between($$"""{"id":"{{id}}","type":"customer.updated","data":{"object":{"id":"cus_1","description":""", "}}}");
        var rejections = await RejectionsAsync();

        using var response = await PostAsync(body, Signature(body, Now));

        var storable = System.Text.Unicode.Utf8.IsValid(body) && PlainText.StorageFault(hostile.Text) is null;
        await using var db = NewContext();
        var stored = await db.WebhookEvents.CountAsync(e => e.EventId == id, Ct);
        Assert.Equal(storable ? (HttpStatusCode.OK, 1, rejections) : (HttpStatusCode.BadRequest, 0, rejections + 1),
            (response.StatusCode, stored, await RejectionsAsync()));
        if (!storable) Assert.Null(PlainText.Fault(await LatestRejectionReasonAsync()));
    }

    private static async Task<string> LatestRejectionReasonAsync()
    {
        await using var db = NewContext();
        return await db.WebhookRejections.Where(r => r.Gateway == "sandbox").OrderByDescending(r => r.Id).Select(r => r.Reason).FirstAsync(Ct);
    }

    [Fact]
    public async Task An_unknown_event_type_is_stored_and_ignored()
    {
        var id = "evt_" + Guid.NewGuid().ToString("N");
        using var response = await PostSignedAsync(Event("customer.created", key: "none", eventId: id, objectId: "cus_1"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var db = NewContext();
        Assert.True(await db.WebhookEvents.AnyAsync(e => e.Gateway == "sandbox" && e.EventId == id, Ct));
    }

    [Theory]
    [InlineData("10.1.2.3", true)]
    [InlineData("203.0.113.9", false)]
    [InlineData("::ffff:10.9.9.9", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("2001:db9::1", false)]
    public void The_network_check_admits_only_addresses_inside_the_allow_list(string address, bool allowed)
    {
        IReadOnlyList<IPNetwork> networks = [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("2001:db8::/32")];
        Assert.Equal(allowed, WebhookSignature.IsAllowed(IPAddress.Parse(address), networks));
        Assert.True(WebhookSignature.IsAllowed(IPAddress.Parse(address), []));
        Assert.False(WebhookSignature.IsAllowed(null, networks));
    }

    [Fact]
    public void An_allow_list_entry_that_is_not_a_cidr_range_fails_validation()
    {
        var options = new WebhookOptions { AllowedNetworks = ["10.0.0.0/8", "not-a-network"] };
        var failure = Assert.Single(options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)));
        Assert.Contains("not-a-network", failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gateway_without_a_secret_is_not_found()
    {
        const string body = """{"id":"evt_x","type":"payment_intent.succeeded"}""";
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/stripe") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation(WebhookSignature.Header, Signature(body, Now));
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public void Any_of_several_v1_signatures_is_accepted()
    {
        var body = "{}"u8.ToArray();
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var good = Convert.ToHexStringLower(WebhookSignature.Compute("s", "1700000000", body));
        var header = $"t=1700000000,v1={new string('0', 64)},v1={good}";
        Assert.Null(WebhookSignature.Verify(header, body, "s", now, TimeSpan.FromMinutes(5)));
        Assert.Equal("timestamp outside tolerance", WebhookSignature.Verify(header, body, "s", now.AddMinutes(6), TimeSpan.FromMinutes(5)));
        Assert.Equal("signature mismatch", WebhookSignature.Verify($"t=1700000000,v1={new string('0', 64)}", body, "s", now, TimeSpan.FromMinutes(5)));
    }
}
