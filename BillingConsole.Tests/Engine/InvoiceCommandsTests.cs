using System.Text.Json;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine;

/// <summary>Voiding, writing off and noting, as an agent does from the console, over a real database.</summary>
public sealed class InvoiceCommandsTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("Ada Admin", "admin");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("invoice_commands");
        _engine = EngineServices.Create(_database);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    private Task<InvoiceView> VoidAsync(Guid invoiceId, string reason = "Billed in error") =>
        _engine.InScopeAsync<InvoiceCommands, InvoiceView>(c => c.VoidAsync(invoiceId, Admin, reason, Ct));

    private Task<InvoiceView> WriteOffAsync(Guid invoiceId, string reason = "Customer went out of business") =>
        _engine.InScopeAsync<InvoiceCommands, InvoiceView>(c => c.MarkUncollectibleAsync(invoiceId, Admin, reason, Ct));

    private sealed record State(Invoice Invoice, DunningCase Case, Subscription Subscription, decimal CreditBalance,
        Dictionary<LedgerAccount, decimal> Balances, bool Balanced, List<(string Action, string Actor, string Reason, string? Before, string? After)> Audit);

    private async Task<State> LoadAsync(FailedInvoice failed)
    {
        await using var db = _database.NewContext();
        var invoice = await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == failed.InvoiceId, Ct);
        var dunningCase = await db.DunningCases.AsNoTracking().SingleAsync(c => c.Id == failed.CaseId, Ct);
        var subscription = await db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == failed.SubscriptionId, Ct);
        var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Id == failed.CustomerId, Ct);
        var ledger = await db.LedgerEntries.AsNoTracking().Where(e => e.CustomerId == failed.CustomerId).ToListAsync(Ct);
        var audit = await db.AuditLog.AsNoTracking().Where(a => a.EntityId == failed.InvoiceId.ToString()).OrderBy(a => a.Id)
            .Select(a => new { a.Action, a.Actor, a.Reason, a.Before, a.After }).ToListAsync(Ct);
        return new State(invoice, dunningCase, subscription, customer.CreditBalance.Amount,
            Enum.GetValues<LedgerAccount>().ToDictionary(a => a, a => ledger.Where(e => e.Account == a).Sum(e => e.Debit - e.Credit)),
            ledger.GroupBy(e => e.TransactionId).All(t => t.Sum(e => e.Debit) == t.Sum(e => e.Credit)),
            [.. audit.Where(a => a.Action is "invoice.voided" or "invoice.marked_uncollectible").Select(a => (a.Action, a.Actor, a.Reason, a.Before, a.After))]);
    }

    private static string StatusIn(string? json) => JsonDocument.Parse(json!).RootElement.GetProperty("status").GetString()!;

    [Fact]
    public async Task Voiding_a_failed_invoice_reverses_it_in_the_ledger_closes_its_case_and_recovers_the_subscription()
    {
        var failed = await FailedInvoices.CreateAsync(_engine.Services);

        var voided = await VoidAsync(failed.InvoiceId);

        var state = await LoadAsync(failed);
        Assert.Equal("void", voided.Status);
        Assert.Equal(InvoiceStatus.Void, state.Invoice.Status);
        Assert.Equal(_engine.Clock.GetUtcNow(), state.Invoice.VoidedAt);
        Assert.Equal(DunningStatus.Closed, state.Case.Status);
        Assert.Equal(SubscriptionStatus.Active, state.Subscription.Status);
        Assert.True(state.Balanced);
        Assert.Equal(0m, state.Balances[LedgerAccount.Receivable]);
        Assert.Equal(0m, state.Balances[LedgerAccount.Revenue]);
        var entry = Assert.Single(state.Audit);
        Assert.Equal(("invoice.voided", "Ada Admin", "Billed in error"), (entry.Action, entry.Actor, entry.Reason));
        Assert.Equal("open", StatusIn(entry.Before));
        Assert.Equal("void", StatusIn(entry.After));
    }

    [Fact]
    public async Task Voiding_gives_back_the_credit_the_invoice_used()
    {
        var data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
        var (_, price) = await data.PlanAsync(20m);
        var customer = await data.CustomerAsync("pm_insufficient_funds_", credit: 5m);
        var subscription = await _engine.InScopeAsync<SubscriptionCommands, SubscriptionChangeView>(c =>
            c.CreateAsync(new CreateSubscription(customer.Id, price.Id, 1, 0), Admin, "setup", Ct));
        Assert.Equal(5m, subscription.Invoice!.CreditApplied);

        await VoidAsync(subscription.Invoice.Id!.Value);

        await using var db = _database.NewContext();
        Assert.Equal(5m, (await db.Customers.SingleAsync(c => c.Id == customer.Id, Ct)).CreditBalance.Amount);
        var entries = await db.LedgerEntries.Where(e => e.InvoiceId == subscription.Invoice.Id).ToListAsync(Ct);
        Assert.Equal(0m, entries.Where(e => e.Account == LedgerAccount.Receivable).Sum(e => e.Debit - e.Credit));
        Assert.Equal(0m, entries.Where(e => e.Account == LedgerAccount.CustomerCredit).Sum(e => e.Debit - e.Credit));
    }

    [Fact]
    public async Task Marking_uncollectible_writes_off_the_amount_due_as_bad_debt_and_closes_the_case()
    {
        var failed = await FailedInvoices.CreateAsync(_engine.Services);

        var writtenOff = await WriteOffAsync(failed.InvoiceId);

        var state = await LoadAsync(failed);
        Assert.Equal("uncollectible", writtenOff.Status);
        Assert.Equal(InvoiceStatus.Uncollectible, state.Invoice.Status);
        Assert.Equal(20m, state.Invoice.AmountWrittenOff.Amount);
        Assert.Equal(DunningStatus.Closed, state.Case.Status);
        Assert.True(state.Balanced);
        Assert.Equal(0m, state.Balances[LedgerAccount.Receivable]);
        Assert.Equal(20m, state.Balances[LedgerAccount.BadDebt]);
        var entry = Assert.Single(state.Audit);
        Assert.Equal(("invoice.marked_uncollectible", "Customer went out of business"), (entry.Action, entry.Reason));
        Assert.Equal("uncollectible", StatusIn(entry.After));
    }

    [Fact]
    public async Task A_written_off_invoice_can_still_be_voided_and_the_bad_debt_is_reversed()
    {
        var failed = await FailedInvoices.CreateAsync(_engine.Services);
        await WriteOffAsync(failed.InvoiceId);

        await VoidAsync(failed.InvoiceId);

        var state = await LoadAsync(failed);
        Assert.Equal(InvoiceStatus.Void, state.Invoice.Status);
        Assert.True(state.Balanced);
        Assert.Equal(0m, state.Balances[LedgerAccount.BadDebt]);
        Assert.Equal(0m, state.Balances[LedgerAccount.Receivable]);
        Assert.Equal(0m, state.Balances[LedgerAccount.Revenue]);
    }

    [Fact]
    public async Task Illegal_moves_are_refused_with_a_clear_message_and_write_nothing()
    {
        var failed = await FailedInvoices.CreateAsync(_engine.Services);
        await _engine.InScopeAsync<DunningCommands, BillingConsole.Engine.Payments.ChargeResult>(c => c.RetryNowAsync(failed.InvoiceId, Admin, "card replaced", Ct));
        var paid = await LoadAsync(failed);
        Assert.Equal(InvoiceStatus.Paid, paid.Invoice.Status);

        var voidPaid = await Assert.ThrowsAsync<DomainRuleException>(() => VoidAsync(failed.InvoiceId));
        var writeOffPaid = await Assert.ThrowsAsync<DomainRuleException>(() => WriteOffAsync(failed.InvoiceId));

        Assert.Equal("A paid invoice cannot be voided.", voidPaid.Message);
        Assert.Equal("A paid invoice cannot be marked uncollectible.", writeOffPaid.Message);
        var after = await LoadAsync(failed);
        Assert.Equal(InvoiceStatus.Paid, after.Invoice.Status);
        Assert.Equal(paid.Balances, after.Balances);
        Assert.Empty(after.Audit);
    }

    [Fact]
    public async Task A_reason_is_required_and_an_unknown_invoice_is_not_found()
    {
        var failed = await FailedInvoices.CreateAsync(_engine.Services);

        await Assert.ThrowsAsync<DomainRuleException>(() => VoidAsync(failed.InvoiceId, "  "));
        await Assert.ThrowsAsync<DomainRuleException>(() => WriteOffAsync(failed.InvoiceId, ""));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => VoidAsync(Guid.NewGuid()));

        var state = await LoadAsync(failed);
        Assert.Equal(InvoiceStatus.Open, state.Invoice.Status);
        Assert.Equal(DunningStatus.RetryPending, state.Case.Status);
        Assert.Empty(state.Audit);
    }

    [Fact]
    public async Task A_note_goes_on_the_customer_under_the_agents_name_and_in_the_audit_log()
    {
        var failed = await FailedInvoices.CreateAsync(_engine.Services);
        var agent = new Actor("Sam Support", "support");

        await _engine.InScopeAsync<CustomerCommands>(c => c.AddNoteAsync(failed.CustomerId, agent, "  Called the customer: new card on Friday. ", Ct));
        await Assert.ThrowsAsync<DomainRuleException>(() => _engine.InScopeAsync<CustomerCommands>(c => c.AddNoteAsync(failed.CustomerId, agent, " ", Ct)));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _engine.InScopeAsync<CustomerCommands>(c => c.AddNoteAsync(Guid.NewGuid(), agent, "x", Ct)));

        await using var db = _database.NewContext();
        var note = Assert.Single(await db.CustomerNotes.Where(n => n.CustomerId == failed.CustomerId).ToListAsync(Ct));
        Assert.Equal(("Sam Support", "Called the customer: new card on Friday."), (note.Author, note.Body));
        Assert.Equal(_engine.Clock.GetUtcNow(), note.CreatedAt);
        var audit = Assert.Single(await db.AuditLog.Where(a => a.Action == "customer.note_added" && a.EntityId == failed.CustomerId.ToString()).ToListAsync(Ct));
        Assert.Equal(("Sam Support", "support", "Called the customer: new card on Friday."), (audit.Actor, audit.ActorRole, audit.Reason));

        // The customer's timeline shows the note once, as a note, not again as its audit entry.
        var details = await _engine.Get<BillingConsole.ReadModels.CustomerDetails>().FindAsync(failed.CustomerId, Ct);
        Assert.Single(details!.Timeline, e => e.Text.Contains("new card on Friday") || e.Reason?.Contains("new card on Friday") == true);
    }
}
