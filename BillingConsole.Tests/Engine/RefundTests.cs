using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Tests.Engine;

/// <summary>Refunds and credit notes through the engine's commands, over a real database and the sandbox gateway.</summary>
public sealed class RefundTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("Ada Admin", "admin");
    private static readonly Actor Support = new("Sam Support", RefundCommands.SupportRole);

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("refunds");
        _engine = EngineServices.Create(_database);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    private async Task<(Guid InvoiceId, Guid CustomerId)> PaidInvoiceAsync(decimal amount = 20m)
    {
        var (invoiceId, customerId) = await _engine.OpenInvoiceAsync(new BillingTestData(_database, _engine.Clock.GetUtcNow()), "pm_ok_", amount);
        var charge = await _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.Manual, Actor.System, Ct));
        Assert.Equal(ChargeStatus.Succeeded, charge.Status);
        return (invoiceId, customerId);
    }

    private Task<RefundView> RefundAsync(Guid invoiceId, decimal? amount, Actor? actor = null, string reason = "Charged twice") =>
        _engine.InScopeAsync<RefundCommands, RefundView>(c => c.RefundAsync(invoiceId, new RefundPayment(amount, "duplicate"), actor ?? Admin, reason, Ct));

    private Task<CreditNoteView> CreditAsync(Guid invoiceId, decimal amount, string reason = "Service outage") =>
        _engine.InScopeAsync<CreditNoteCommands, CreditNoteView>(c => c.IssueAsync(invoiceId,
            new IssueCreditNote([new CreditNoteLineInput("Outage on 3 March", amount)], "goodwill", "Sorry for the outage"), Admin, reason, Ct));

    private sealed record Books(Invoice Invoice, decimal AmountDueColumn, decimal CreditBalance, Dictionary<LedgerAccount, decimal> Balances, bool Balanced,
        int Refunds, int CreditNotes, int Audit);

    private async Task<Books> BooksAsync(Guid invoiceId, Guid customerId)
    {
        await using var db = _database.NewContext();
        var invoice = await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId, Ct);
        var amountDue = await db.Database.SqlQuery<decimal>($"select amount_due as \"Value\" from invoices where id = {invoiceId}").SingleAsync(Ct);
        var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Id == customerId, Ct);
        var ledger = await db.LedgerEntries.AsNoTracking().Where(e => e.CustomerId == customerId).ToListAsync(Ct);
        return new Books(invoice, amountDue, customer.CreditBalance.Amount,
            Enum.GetValues<LedgerAccount>().ToDictionary(a => a, a => ledger.Where(e => e.Account == a).Sum(e => e.Debit - e.Credit)),
            ledger.GroupBy(e => e.TransactionId).All(t => t.Sum(e => e.Debit) == t.Sum(e => e.Credit)),
            await db.Refunds.CountAsync(r => r.InvoiceId == invoiceId, Ct),
            await db.CreditNotes.CountAsync(n => n.InvoiceId == invoiceId, Ct),
            await db.AuditLog.CountAsync(a => a.EntityId == invoiceId.ToString(), Ct));
    }

    [Fact]
    public async Task A_partial_refund_goes_through_the_gateway_issues_a_credit_note_and_balances_the_ledger()
    {
        var (invoiceId, customerId) = await PaidInvoiceAsync();

        var refund = await RefundAsync(invoiceId, 7.50m);

        Assert.Equal(("succeeded", 7.50m), (refund.Status, refund.Amount));
        Assert.StartsWith("re_sandbox_", refund.GatewayReference);
        var note = refund.CreditNote!;
        Assert.Matches("^CN-[0-9]{6}$", note.Number);
        Assert.Equal(("refunded", "duplicate", 7.50m), (note.Settlement, note.Reason, note.Total));
        var books = await BooksAsync(invoiceId, customerId);
        Assert.True(books.Balanced);
        Assert.Equal(InvoiceStatus.Paid, books.Invoice.Status);
        Assert.Equal(7.50m, books.Invoice.AmountCredited.Amount);
        Assert.Equal(12.50m, books.Balances[LedgerAccount.Cash]);
        Assert.Equal(7.50m, books.Balances[LedgerAccount.Refunds]);
        Assert.Equal(0m, books.Balances[LedgerAccount.Receivable]);
        // The gateway holds the rest: a second refund of the remainder is all it allows.
        var rest = await RefundAsync(invoiceId, null);
        Assert.Equal(("succeeded", 12.50m), (rest.Status, rest.Amount));
        Assert.NotEqual(note.Number, rest.CreditNote!.Number);
    }

    [Fact]
    public async Task A_refund_above_what_was_paid_is_refused_with_a_sentence_and_writes_nothing()
    {
        var (invoiceId, customerId) = await PaidInvoiceAsync();
        var before = await BooksAsync(invoiceId, customerId);

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => RefundAsync(invoiceId, 20.01m));

        Assert.Equal("The refund of $20.01 is more than the $20.00 left to refund on this payment; nothing was refunded.", refused.Message);
        var after = await BooksAsync(invoiceId, customerId);
        Assert.Equal((before.Refunds, before.CreditNotes, before.Audit, before.Balances[LedgerAccount.Cash]),
            (after.Refunds, after.CreditNotes, after.Audit, after.Balances[LedgerAccount.Cash]));
        Assert.Equal(0, after.Refunds);
    }

    [Fact]
    public async Task Twenty_concurrent_refunds_never_return_more_than_was_paid()
    {
        var (invoiceId, customerId) = await PaidInvoiceAsync();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            try
            {
                return (await RefundAsync(invoiceId, 3m)).Status;
            }
            catch (DomainRuleException)
            {
                return "refused";
            }
        }));

        Assert.Equal(6, outcomes.Count(o => o == "succeeded"));
        Assert.Equal(14, outcomes.Count(o => o == "refused"));
        var books = await BooksAsync(invoiceId, customerId);
        Assert.True(books.Balanced);
        Assert.Equal((6, 6), (books.Refunds, books.CreditNotes));
        Assert.Equal(18m, books.Balances[LedgerAccount.Refunds]);
        Assert.Equal(2m, books.Balances[LedgerAccount.Cash]);
    }

    [Fact]
    public async Task A_refund_the_gateway_did_not_answer_stays_pending_and_reconciliation_settles_it_once()
    {
        var (invoiceId, customerId) = await PaidInvoiceAsync();
        _engine.Gateway.FailNextCalls(1, SandboxOutage.ServerErrors);

        var pending = await RefundAsync(invoiceId, 5m);

        Assert.Equal("pending", pending.Status);
        Assert.Equal(0m, (await BooksAsync(invoiceId, customerId)).Balances[LedgerAccount.Refunds]);
        // Counted as refunded while pending: the rest is what is left.
        await Assert.ThrowsAsync<DomainRuleException>(() => RefundAsync(invoiceId, 15.01m));
        Assert.Equal(0, await _engine.InScopeAsync<RefundCommands, int>(c => c.ReconcileAsync(Ct)));

        _engine.Clock.Advance(TimeSpan.FromMinutes(5));
        var settled = await _engine.InScopeAsync<RefundCommands, int>(c => c.ReconcileAsync(Ct));
        var again = await _engine.InScopeAsync<RefundCommands, int>(c => c.ReconcileAsync(Ct));

        Assert.Equal((1, 0), (settled, again));
        var refund = await _engine.InScopeAsync<RefundCommands, RefundView>(c => c.ViewAsync(pending.Id, Ct));
        Assert.Equal("succeeded", refund.Status);
        Assert.NotNull(refund.CreditNote);
        var books = await BooksAsync(invoiceId, customerId);
        Assert.True(books.Balanced);
        Assert.Equal(5m, books.Balances[LedgerAccount.Refunds]);
        Assert.Equal(1, books.CreditNotes);
    }

    [Fact]
    public async Task Support_refunds_up_to_the_limit_the_billing_settings_set_and_an_admin_above_it()
    {
        var (invoiceId, _) = await PaidInvoiceAsync(50m);
        await SetSupportLimitAsync(10m);

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => RefundAsync(invoiceId, 15m, Support));
        var withinLimit = await RefundAsync(invoiceId, 10m, Support);
        var byAdmin = await RefundAsync(invoiceId, 15m, Admin);
        await SetSupportLimitAsync(20m);
        var raised = await RefundAsync(invoiceId, 15m, Support);

        Assert.Equal("Support may refund up to $10.00 at once; a refund of $15.00 needs an admin.", refused.Message);
        Assert.Equal(["succeeded", "succeeded", "succeeded"], new[] { withinLimit.Status, byAdmin.Status, raised.Status });
    }

    /// <summary>The limit as every node applies saved billing settings (BillingSettingsTests shows the page's save reaching them).</summary>
    private Task SetSupportLimitAsync(decimal limit) =>
        _engine.InScopeAsync<BillingSettingsCommands>(commands =>
        {
            _engine.Get<StoredBillingSettings>().Set(commands.Current() with { SupportRefundLimit = limit });
            return Task.CompletedTask;
        });

    [Fact]
    public async Task A_credit_note_reduces_an_open_invoice_and_one_for_the_rest_settles_it_and_closes_its_dunning_case()
    {
        var failed = await FailedInvoices.CreateAsync(_engine.Services);

        var first = await CreditAsync(failed.InvoiceId, 5m);

        Assert.Equal(("amount_due_reduced", "goodwill", 5m), (first.Settlement, first.Reason, first.Total));
        var books = await BooksAsync(failed.InvoiceId, failed.CustomerId);
        Assert.Equal((InvoiceStatus.Open, 15m, 15m), (books.Invoice.Status, books.Invoice.AmountDue.Amount, books.AmountDueColumn));
        Assert.Equal(15m, books.Balances[LedgerAccount.Receivable]);
        Assert.True(books.Balanced);
        var voided = await Assert.ThrowsAsync<DomainRuleException>(() =>
            _engine.InScopeAsync<InvoiceCommands, InvoiceView>(c => c.VoidAsync(failed.InvoiceId, Admin, "Billed in error", Ct)));
        Assert.Equal("An invoice with credit notes cannot be voided; credit what is still due instead.", voided.Message);
        var tooMuch = await Assert.ThrowsAsync<DomainRuleException>(() => CreditAsync(failed.InvoiceId, 15.01m));
        Assert.Equal("The credit note of $15.01 is more than the $15.00 still due on this invoice.", tooMuch.Message);

        await CreditAsync(failed.InvoiceId, 15m);

        books = await BooksAsync(failed.InvoiceId, failed.CustomerId);
        Assert.Equal((InvoiceStatus.Paid, 0m, 20m), (books.Invoice.Status, books.AmountDueColumn, books.Invoice.AmountCredited.Amount));
        Assert.Equal((0m, 20m, 0m), (books.Balances[LedgerAccount.Receivable], books.Balances[LedgerAccount.Refunds], books.Balances[LedgerAccount.Cash]));
        Assert.True(books.Balanced);
        await using var db = _database.NewContext();
        Assert.Equal(DunningStatus.Closed, (await db.DunningCases.SingleAsync(c => c.Id == failed.CaseId, Ct)).Status);
        Assert.Equal(SubscriptionStatus.Active, (await db.Subscriptions.SingleAsync(s => s.Id == failed.SubscriptionId, Ct)).Status);
    }

    [Fact]
    public async Task A_credit_note_on_a_paid_invoice_credits_the_customer_balance_and_leaves_less_to_refund()
    {
        var (invoiceId, customerId) = await PaidInvoiceAsync();

        var note = await CreditAsync(invoiceId, 15m);
        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => RefundAsync(invoiceId, 10m));

        Assert.Equal("customer_credited", note.Settlement);
        Assert.Equal("The refund of $10.00 is more than the $5.00 left to refund on this payment; nothing was refunded.", refused.Message);
        var books = await BooksAsync(invoiceId, customerId);
        Assert.Equal(15m, books.CreditBalance);
        Assert.Equal(-15m, books.Balances[LedgerAccount.CustomerCredit]);
        Assert.Equal(15m, books.Balances[LedgerAccount.Refunds]);
        Assert.True(books.Balanced);
    }
}
