using System.Text.Json.Nodes;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static BillingConsole.Tests.Infrastructure.WebhookEvents;

namespace BillingConsole.Tests.Api;

/// <summary>Stripe's charge.dispute.* events, signed, in Stripe's own payload shape, against the shared host.</summary>
public sealed class DisputeWebhookTests(ConsoleAppHost host)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A dispute object as Stripe sends it: amounts in cents, the withdrawal's balance transaction with its fee.</summary>
    private static JsonObject DisputeObject(string id, string reference, string status, DateTimeOffset dueBy, bool reinstated = false)
    {
        var transactions = new JsonArray(new JsonObject { ["id"] = "txn_w", ["object"] = "balance_transaction", ["amount"] = -2000, ["fee"] = 1500, ["net"] = -3500 });
        if (reinstated) transactions.Add(new JsonObject { ["id"] = "txn_r", ["object"] = "balance_transaction", ["amount"] = 2000, ["fee"] = 0, ["net"] = 2000 });
        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "dispute",
            ["amount"] = 2000,
            ["balance_transactions"] = transactions,
            ["charge"] = reference,
            ["currency"] = "usd",
            ["evidence_details"] = new JsonObject { ["due_by"] = dueBy.ToUnixTimeSeconds(), ["has_evidence"] = false, ["past_due"] = false, ["submission_count"] = 0 },
            ["is_charge_refundable"] = false,
            ["livemode"] = false,
            ["metadata"] = new JsonObject(),
            ["payment_intent"] = "pi_" + Guid.NewGuid().ToString("N")[..24],
            ["reason"] = "fraudulent",
            ["status"] = status,
        };
    }

    [Fact]
    public async Task A_dispute_opened_then_won_is_shown_on_the_invoice_with_its_evidence_date_and_the_ledger_gets_its_amount_back()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services);
        string reference;
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var paid = await scope.ServiceProvider.GetRequiredService<PaymentProcessor>().ChargeAsync(failed.InvoiceId, PaymentTrigger.Manual, Actor.System, Ct);
            var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
            reference = await db.PaymentAttempts.Where(a => a.Id == paid.AttemptId).Select(a => a.GatewayReference!).SingleAsync(Ct);
        }
        var now = host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        var disputeId = "du_" + Guid.NewGuid().ToString("N")[..24];
        var created = EventOf("charge.dispute.created", DisputeObject(disputeId, reference, "needs_response", now.AddDays(3)));

        Assert.Equal("applied", await PostSignedAsync(host, created));
        Assert.Equal("duplicate", await PostSignedAsync(host, created));

        var details = await host.Services.GetRequiredService<InvoiceDetails>().FindAsync(failed.InvoiceId, Ct);
        var dispute = Assert.Single(details!.Disputes);
        Assert.Equal((disputeId, "needs_response", 20m, 15m, "fraudulent"), (dispute.GatewayDisputeId, dispute.Status, dispute.Amount, dispute.Fee, dispute.Reason));
        Assert.Equal(now.AddDays(3).ToUnixTimeSeconds(), dispute.EvidenceDueBy!.Value.ToUnixTimeSeconds());
        Assert.True(dispute.EvidenceUrgent(now));
        Assert.Contains(await host.Services.GetRequiredService<DisputeList>().OpenAsync(100, Ct), d => d.Id == dispute.Id);

        var closed = EventOf("charge.dispute.closed", DisputeObject(disputeId, reference, "won", now.AddDays(3), reinstated: true));
        Assert.Equal("applied", await PostSignedAsync(host, closed));

        await using var after = TestDatabases.NewContext(TestServers.DefaultConnectionString);
        var ledger = await after.LedgerEntries.Where(e => e.InvoiceId == failed.InvoiceId).ToListAsync(Ct);
        Assert.All(ledger.GroupBy(e => e.TransactionId), t => Assert.Equal(t.Sum(e => e.Debit), t.Sum(e => e.Credit)));
        decimal Balance(LedgerAccount account) => ledger.Where(e => e.Account == account).Sum(e => e.Debit - e.Credit);
        Assert.Equal((0m, 15m, 5m), (Balance(LedgerAccount.Chargebacks), Balance(LedgerAccount.DisputeFees), Balance(LedgerAccount.Cash)));
        Assert.DoesNotContain(await host.Services.GetRequiredService<DisputeList>().OpenAsync(100, Ct), d => d.Id == dispute.Id);
    }
}
