using System.Net;
using System.Text.Json.Nodes;
using BillingConsole.Api;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static BillingConsole.Tests.Infrastructure.WebhookEvents;

namespace BillingConsole.Tests.Api;

/// <summary>Refunds and credit notes over the upstream API, and refund outcomes reported by signed webhooks, on the shared host.</summary>
public sealed class RefundApiTests(ConsoleAppHost host) : ApiTestBase(host)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A customer's invoice of 20.00 paid by card.</summary>
    private async Task<FailedInvoice> PaidInvoiceAsync()
    {
        var failed = await FailedInvoices.CreateAsync(Host.Services);
        await using var scope = Host.Services.CreateAsyncScope();
        var paid = await scope.ServiceProvider.GetRequiredService<PaymentProcessor>().ChargeAsync(failed.InvoiceId, PaymentTrigger.Manual, Actor.System, Ct);
        Assert.Equal(ChargeStatus.Succeeded, paid.Status);
        return failed;
    }

    private Task<(int Refunds, int CreditNotes, int LedgerEntries, int Audit)> CountAsync(FailedInvoice invoice) =>
        Api.WithDbAsync(async db => (
            await db.Refunds.CountAsync(r => r.InvoiceId == invoice.InvoiceId, Ct),
            await db.CreditNotes.CountAsync(n => n.InvoiceId == invoice.InvoiceId, Ct),
            await db.LedgerEntries.CountAsync(e => e.InvoiceId == invoice.InvoiceId, Ct),
            await db.AuditLog.CountAsync(a => a.EntityId == invoice.InvoiceId.ToString(), Ct)));

    [Fact]
    public async Task A_refund_is_sent_once_per_idempotency_key_and_one_above_what_is_left_is_refused_with_a_sentence()
    {
        var invoice = await PaidInvoiceAsync();
        var key = Guid.NewGuid();
        var path = $"/api/v1/invoices/{invoice.InvoiceId}/refunds";

        var created = await Api.PostAsync(path, new { amount = 5m, reason = "duplicate", memo = "Charged twice in March" }, key);
        var refund = await Api.ReadAsync<RefundView>(created, HttpStatusCode.Created);
        var replay = await Api.PostAsync(path, new { amount = 5m, reason = "duplicate", memo = "Charged twice in March" }, key);
        var counts = await CountAsync(invoice);

        Assert.Equal(("pending", 5m), (refund.Status, refund.Amount));
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues(IdempotentCommand.ReplayedHeader).Single());
        Assert.Equal(refund.Id, (await Api.ReadAsync<RefundView>(replay, HttpStatusCode.Created)).Id);
        var read = await Api.ReadAsync<RefundView>(await Api.SendAsync(HttpMethod.Get, $"/api/v1/refunds/{refund.Id}"), HttpStatusCode.OK);
        Assert.Equal("succeeded", read.Status);
        Assert.Matches("^CN-[0-9]{6}$", read.CreditNote!.Number);
        Assert.Equal((1, 1), (counts.Refunds, counts.CreditNotes));

        var tooMuch = await Api.PostAsync(path, new { amount = 15.01m, reason = "duplicate" }, Guid.NewGuid());
        var badReason = await Api.PostAsync(path, new { amount = 1m, reason = "because" }, Guid.NewGuid());

        Assert.Equal("The refund of $15.01 is more than the $15.00 left to refund on this payment; nothing was refunded.",
            (await Problem.ReadAsync(tooMuch, HttpStatusCode.UnprocessableEntity)).Detail);
        var invalid = await Problem.ReadAsync(badReason, HttpStatusCode.BadRequest);
        Assert.Equal("The reason is one of duplicate, product_unsatisfactory, order_change, goodwill.", Assert.Single(invalid.Errors!["reason"]));
        Assert.Equal(counts, await CountAsync(invoice));
        await using var db = TestDatabases.NewContext(TestServers.DefaultConnectionString);
        var ledger = await db.LedgerEntries.Where(e => e.InvoiceId == invoice.InvoiceId).ToListAsync(Ct);
        Assert.All(ledger.GroupBy(e => e.TransactionId), t => Assert.Equal(t.Sum(e => e.Debit), t.Sum(e => e.Credit)));
        Assert.Equal(5m, ledger.Where(e => e.Account == LedgerAccount.Refunds).Sum(e => e.Debit - e.Credit));
    }

    [Fact]
    public async Task A_credit_note_over_the_API_reduces_what_an_open_invoice_owes()
    {
        var invoice = await FailedInvoices.CreateAsync(Host.Services);
        var path = $"/api/v1/invoices/{invoice.InvoiceId}/credit-notes";

        var empty = await Api.PostAsync(path, new { lines = Array.Empty<object>(), reason = "goodwill" }, Guid.NewGuid());
        var created = await Api.PostAsync(path, new { lines = new[] { new { description = "Outage on 3 March", amount = 4m } }, reason = "goodwill" }, Guid.NewGuid());

        Assert.Equal("A credit note needs at least one line.", Assert.Single((await Problem.ReadAsync(empty, HttpStatusCode.BadRequest)).Errors!["lines"]));
        var note = await Api.ReadAsync<CreditNoteView>(created, HttpStatusCode.Created);
        Assert.Equal(("amount_due_reduced", 4m), (note.Settlement, note.Total));
        Assert.Equal(16m, await Api.WithDbAsync(db => db.Database
            .SqlQuery<decimal>($"select amount_due as \"Value\" from invoices where id = {invoice.InvoiceId}").SingleAsync(Ct)));
    }

    /// <summary>A refund event as Stripe sends it: the refund object, with the key our refund was sent under in its metadata.</summary>
    private static JsonObject RefundObject(string key, string status, string? failureReason = null) => new()
    {
        ["id"] = "re_" + Guid.NewGuid().ToString("N")[..24],
        ["object"] = "refund",
        ["amount"] = 500,
        ["charge"] = "ch_3Stand",
        ["currency"] = "usd",
        ["metadata"] = new JsonObject { ["idempotency_key"] = key, ["reason"] = "duplicate" },
        ["payment_intent"] = "pi_3Stand",
        ["reason"] = null,
        ["status"] = status,
        ["failure_reason"] = failureReason,
    };

    private async Task<RefundView> PendingRefundAsync(FailedInvoice invoice, decimal amount = 5m)
    {
        await using var scope = Host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RefundCommands>()
            .RequestAsync(invoice.InvoiceId, new RefundPayment(amount, "duplicate"), Actor.System, "Refund reported by the gateway", Ct);
    }

    private async Task<RefundView> RefundAsync(Guid refundId)
    {
        await using var scope = Host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RefundCommands>().ViewAsync(refundId, Ct);
    }

    [Fact]
    public async Task Refund_webhooks_settle_a_pending_refund_once_and_a_refund_reported_failed_frees_its_amount()
    {
        var invoice = await PaidInvoiceAsync();
        var pending = await PendingRefundAsync(invoice);
        var key = await Api.WithDbAsync(db => db.Refunds.Where(r => r.Id == pending.Id).Select(r => r.IdempotencyKey).SingleAsync(Ct));
        var updated = EventOf("refund.updated", RefundObject(key, "succeeded"));

        var applied = await PostSignedAsync(Host, updated);
        var duplicate = await PostSignedAsync(Host, updated);

        Assert.Equal(("applied", "duplicate"), (applied, duplicate));
        var succeeded = await RefundAsync(pending.Id);
        Assert.Equal("succeeded", succeeded.Status);
        Assert.NotNull(succeeded.CreditNote);

        var second = await PendingRefundAsync(invoice);
        var secondKey = await Api.WithDbAsync(db => db.Refunds.Where(r => r.Id == second.Id).Select(r => r.IdempotencyKey).SingleAsync(Ct));
        var charge = new JsonObject
        {
            ["id"] = "ch_3Stand",
            ["object"] = "charge",
            ["amount"] = 2000,
            ["amount_refunded"] = 500,
            ["payment_intent"] = "pi_3Stand",
            ["refunded"] = false,
            ["refunds"] = new JsonObject
            {
                ["object"] = "list",
                ["data"] = new JsonArray(RefundObject(secondKey, "failed", "expired_or_canceled_card"), RefundObject("refund_made_by_hand", "succeeded")),
            },
        };

        Assert.Equal("applied", await PostSignedAsync(Host, EventOf("charge.refunded", charge)));
        var failed = await RefundAsync(second.Id);
        Assert.Equal(("failed", "expired_or_canceled_card"), (failed.Status, failed.FailureMessage));
        Assert.Null(failed.CreditNote);
        // The failed refund's amount is refundable again: all but the 5.00 refunded.
        var rest = await PendingRefundAsync(invoice, 15m);
        Assert.Equal(("pending", 15m), (rest.Status, rest.Amount));
    }
}
