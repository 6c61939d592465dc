using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Payments;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine.Dunning;

/// <summary>
/// What a new dunning policy does to the cases already open: the preview shown before saving equals what saving it does;
/// a version saved for new cases only leaves open cases on their version; a written-off invoice is reopened into dunning.
/// </summary>
public sealed class DunningPolicyImpactTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("ada@example.test", "admin");
    private static readonly Actor Agent = new("agent@example.test", "support");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("impact");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>Version 1 retries on days 1 to 5; two USD cases and one EUR case fail at once and make their first retry.</summary>
    private async Task<List<DunningCase>> CasesWithOneRetryAsync()
    {
        await using (var db = _database.NewContext())
        {
            db.DunningPolicies.Add(new DunningPolicyVersion(1, Dunning.Fixed(1, 2, 3, 4, 5) with { AttemptBudget = 5, GracePeriodHours = 0 },
                "test", "Five daily retries", _engine.Clock.GetUtcNow()));
            await db.SaveChangesAsync(Ct);
        }
        var (_, usd) = await _data.PlanAsync(20m);
        var (_, eur) = await _data.PlanAsync(30m, "EUR");
        await _data.DueSubscriptionsAsync(usd, 2, "pm_insufficient_funds_");
        await _data.DueSubscriptionsAsync(eur, 1, "pm_insufficient_funds_");
        await _engine.RunBillingAsync();
        _engine.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(3, await _engine.Get<DunningRetryRunner>().RunDueAsync(Ct));
        return await CasesAsync();
    }

    private async Task<List<DunningCase>> CasesAsync()
    {
        await using var db = _database.NewContext();
        return await db.DunningCases.AsNoTracking().OrderBy(c => c.OpenedAt).ThenBy(c => c.Id).ToListAsync(Ct);
    }

    private static SaveDunningPolicy Proposed(bool applyToOpenCases) => new()
    {
        Mode = RetryMode.Fixed,
        FixedIntervals = "3, 6",
        AttemptBudget = 1,
        GracePeriodHours = 0,
        Ladder = [new() { Day = 10, Action = EscalationAction.Notify }, new() { Day = 21, Action = EscalationAction.FinalAction }],
        FinalAction = FinalAction.MarkUncollectible,
        HardDeclineCodes = [.. DeclineCodes.DefaultHard],
        FinalNoticeDaysBefore = 3,
        ApplyToOpenCases = applyToOpenCases,
        Reason = "One retry is enough",
    };

    [Fact]
    public async Task The_preview_for_open_cases_foretells_exactly_what_saving_the_policy_does()
    {
        await CasesWithOneRetryAsync();
        // A fourth case, opened a day later, has made no retry yet: the new policy moves its retry from day 1 to day 3.
        var (_, late) = await _data.PlanAsync(20m);
        var lateCustomer = await _data.CustomerAsync("pm_do_not_honor_");
        await _data.SubscriptionAsync(lateCustomer, late, endedAgo: TimeSpan.FromHours(-20));
        await _engine.RunBillingAsync();
        var before = await CasesAsync();
        Assert.Equal(4, before.Count(c => c.Status == DunningStatus.RetryPending));

        var preview = await _engine.InScopeAsync<DunningPolicyCommands, PolicyImpactPreview>(p => p.PreviewAsync(Proposed(true), Ct));
        var saved = await _engine.InScopeAsync<DunningPolicyCommands, DunningPolicySaved>(p => p.SaveAsync(Proposed(true), Admin, Ct));

        Assert.Equal((4, 3, 0, 1), (preview.OnSave.CasesWaiting, preview.OnSave.CasesClosing, preview.OnSave.CasesAwaitingNewCard, preview.OnSave.RetriesMoving));
        Assert.Equal(preview.OnSave with { WrittenOff = [] }, saved.Impact with { WrittenOff = [] });
        Assert.Equal(preview.OnSave.WrittenOff, saved.Impact.WrittenOff);
        await using var db = _database.NewContext();
        var after = await db.DunningCases.AsNoTracking().ToListAsync(Ct);
        Assert.Equal(3, after.Count(c => c.Status == DunningStatus.Exhausted));
        var moved = after.Single(c => c.Status == DunningStatus.RetryPending);
        Assert.Equal(moved.OpenedAt.AddDays(3), moved.NextAttemptAt);
        Assert.NotEqual(before.Single(c => c.Id == moved.Id).NextAttemptAt, moved.NextAttemptAt);
        var writtenOff = await db.LedgerEntries.AsNoTracking().Where(e => e.Kind == LedgerTransactionKind.WriteOff && e.Account == LedgerAccount.BadDebt)
            .GroupBy(e => e.Currency).Select(g => new { Currency = g.Key, Amount = g.Sum(e => e.Debit) }).OrderBy(g => g.Currency).ToListAsync(Ct);
        Assert.Equal(writtenOff.Select(w => new Money(w.Amount, w.Currency)), preview.OnSave.WrittenOff);
        Assert.Equal(["EUR", "USD"], preview.OnSave.WrittenOff.Select(m => m.Currency));
        Assert.Equal(3, await db.Invoices.CountAsync(i => i.Status == InvoiceStatus.Uncollectible, Ct));
    }

    [Fact]
    public async Task The_preview_counts_the_cases_the_next_ladder_pass_closes_under_a_shorter_ladder()
    {
        await CasesWithOneRetryAsync();
        // A stolen card waits for a new one: no save reschedules it, but a ladder whose final day has passed ends it.
        var (_, price) = await _data.PlanAsync(20m);
        var stolen = await _data.CustomerAsync("pm_stolen_card_");
        await _data.SubscriptionAsync(stolen, price, endedAgo: TimeSpan.FromHours(-20));
        await _engine.RunBillingAsync();
        _engine.Clock.Advance(TimeSpan.FromDays(3));
        var shorter = Proposed(true);
        shorter.AttemptBudget = 5;
        shorter.FixedIntervals = "1, 2";
        shorter.Ladder = [new() { Day = 2, Action = EscalationAction.FinalAction }];
        // A final action on day 2 leaves room for a final notice one day before at most.
        shorter.FinalNoticeDaysBefore = 1;

        var preview = await _engine.InScopeAsync<DunningPolicyCommands, PolicyImpactPreview>(p => p.PreviewAsync(shorter, Ct));
        var saved = await _engine.InScopeAsync<DunningPolicyCommands, DunningPolicySaved>(p => p.SaveAsync(shorter, Admin, Ct));
        var steps = await _engine.Get<DunningLadder>().RunDueAsync(Ct);

        await using var db = _database.NewContext();
        var closedByLadder = await db.DunningCases.CountAsync(c => c.Status == DunningStatus.Exhausted, Ct) - saved.Impact.CasesClosing;
        Assert.Equal((3, 1), (preview.OnSave.CasesClosing, preview.CasesClosingAtLadderPass));
        Assert.Equal(preview.OnSave.CasesClosing, saved.Impact.CasesClosing);
        Assert.Equal(preview.CasesClosingAtLadderPass, closedByLadder);
        Assert.Equal(steps, closedByLadder);
        var writtenOff = await db.LedgerEntries.AsNoTracking().Where(e => e.Kind == LedgerTransactionKind.WriteOff && e.Account == LedgerAccount.BadDebt)
            .SumAsync(e => e.Debit, Ct);
        Assert.Equal(writtenOff, preview.OnSave.WrittenOff.Concat(preview.WrittenOffAtLadderPass).Sum(m => m.Amount));
    }

    [Fact]
    public async Task A_version_saved_for_new_cases_only_leaves_open_cases_on_the_version_they_were_opened_with()
    {
        var before = await CasesWithOneRetryAsync();

        var saved = await _engine.InScopeAsync<DunningPolicyCommands, DunningPolicySaved>(p => p.SaveAsync(Proposed(false), Admin, Ct));

        Assert.Equal(PolicyImpact.None, saved.Impact);
        Assert.False(saved.Saved.AppliesToOpenCases);
        var untouched = await CasesAsync();
        Assert.Equal(before.Select(c => (c.Id, c.Status, c.PolicyVersion, c.NextAttemptAt)), untouched.Select(c => (c.Id, c.Status, c.PolicyVersion, c.NextAttemptAt)));

        // Version 1 has four retries left; version 2 (one retry) would end these cases at their next decision.
        _engine.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(3, await _engine.Get<DunningRetryRunner>().RunDueAsync(Ct));
        await _engine.Get<DunningLadder>().RunDueAsync(Ct);
        var retried = await CasesAsync();
        Assert.All(retried, c => Assert.Equal((DunningStatus.RetryPending, 1, 2), (c.Status, c.PolicyVersion, c.RetriesMade)));
        Assert.All(retried, c => Assert.Equal(c.OpenedAt.AddDays(3), c.NextAttemptAt));

        // A case opened now follows the newest version.
        var (_, price) = await _data.PlanAsync(20m);
        var customer = await _data.CustomerAsync("pm_insufficient_funds_");
        await _data.SubscriptionAsync(customer, price, endedAgo: TimeSpan.FromDays(-1));
        await _engine.RunBillingAsync();
        var opened = (await CasesAsync()).Single(c => c.CustomerId == customer.Id);
        Assert.Equal(2, opened.PolicyVersion);
        Assert.Equal(opened.OpenedAt.AddDays(3), opened.NextAttemptAt);

        // Saved later for open cases, a version moves every open case, those opened under a new-cases-only version included.
        var applied = await _engine.InScopeAsync<DunningPolicyCommands, DunningPolicySaved>(p => p.SaveAsync(Proposed(true), Admin, Ct));
        Assert.Equal(4, applied.Impact.CasesWaiting);
        Assert.All(await CasesAsync(), c => Assert.Equal(3, c.PolicyVersion));
    }

    [Fact]
    public async Task A_written_off_invoice_reopens_into_dunning_with_its_write_off_reversed_and_can_be_paid_or_written_off_again()
    {
        var (invoiceId, customerId) = await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_");
        await _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.BillingRun, Actor.System, Ct));
        await _engine.InScopeAsync<InvoiceCommands, InvoiceView>(c => c.MarkUncollectibleAsync(invoiceId, Admin, "Customer unreachable", Ct));

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() =>
            _engine.InScopeAsync<InvoiceCommands, InvoiceView>(c => c.ReopenAsync(invoiceId, Agent, " ", Ct)));
        Assert.Contains("reason", refused.Message, StringComparison.OrdinalIgnoreCase);

        var reopened = await _engine.InScopeAsync<InvoiceCommands, InvoiceView>(c => c.ReopenAsync(invoiceId, Agent, "Customer called back", Ct));

        Assert.Equal("open", reopened.Status);
        await using (var db = _database.NewContext())
        {
            var invoice = await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId, Ct);
            Assert.Equal((InvoiceStatus.Open, 20m, 0m), (invoice.Status, invoice.AmountDue.Amount, invoice.AmountWrittenOff.Amount));
            Assert.Equal((20m, 0m), await BalancesAsync(db, invoiceId));
            var cases = await db.DunningCases.AsNoTracking().Where(c => c.InvoiceId == invoiceId).OrderBy(c => c.OpenedAt).ToListAsync(Ct);
            Assert.Equal([DunningStatus.Closed, DunningStatus.RetryPending], cases.Select(c => c.Status));
            Assert.NotNull(cases[1].NextAttemptAt);
            var audit = await db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "invoice.reopened", Ct);
            Assert.Equal((Agent.Name, "Customer called back"), (audit.Actor, audit.Reason));
        }

        // Written off again and reopened again: each write-off and its reversal is a transaction of its own.
        _engine.Clock.Advance(TimeSpan.FromMinutes(5));
        await _engine.InScopeAsync<InvoiceCommands, InvoiceView>(c => c.MarkUncollectibleAsync(invoiceId, Admin, "Unreachable again", Ct));
        _engine.Clock.Advance(TimeSpan.FromMinutes(5));
        await _engine.InScopeAsync<InvoiceCommands, InvoiceView>(c => c.ReopenAsync(invoiceId, Agent, "Promised to pay", Ct));

        await _engine.InScopeAsync<CustomerCommands, PaymentMethodView>(c => c.AttachPaymentMethodAsync(customerId,
            new AttachPaymentMethod("sandbox", "pm_ok_" + Guid.NewGuid().ToString("N"), "visa", "4242", 12, 2030), Agent, "New card", Ct));
        var paid = await _engine.InScopeAsync<DunningCommands, ChargeResult>(c => c.RetryNowAsync(invoiceId, Agent, "Card updated", Ct));

        Assert.Equal(ChargeStatus.Succeeded, paid.Status);
        await using (var db = _database.NewContext())
        {
            Assert.Equal((0m, 0m), await BalancesAsync(db, invoiceId));
            var entries = await db.LedgerEntries.AsNoTracking().Where(e => e.InvoiceId == invoiceId).ToListAsync(Ct);
            Assert.All(entries.GroupBy(e => e.TransactionId), t => Assert.Equal(t.Sum(e => e.Debit), t.Sum(e => e.Credit)));
            Assert.Equal(2, entries.Where(e => e.Kind == LedgerTransactionKind.WriteOffReversed).Select(e => e.TransactionId).Distinct().Count());
            Assert.Equal(20m, entries.Where(e => e.Account == LedgerAccount.Cash).Sum(e => e.Debit));
        }
    }

    [Fact]
    public async Task Only_a_written_off_invoice_can_be_reopened_and_a_refusal_writes_nothing()
    {
        var (invoiceId, _) = await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_");

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() =>
            _engine.InScopeAsync<InvoiceCommands, InvoiceView>(c => c.ReopenAsync(invoiceId, Agent, "Try it", Ct)));

        Assert.Equal("Only a written-off invoice can be reopened; this one is open.", refused.Message);
        await using var db = _database.NewContext();
        Assert.False(await db.AuditLog.AnyAsync(a => a.Action == "invoice.reopened", Ct));
        Assert.False(await db.LedgerEntries.AnyAsync(e => e.Kind == LedgerTransactionKind.WriteOffReversed, Ct));
    }

    /// <summary>Receivable and bad debt of one invoice, as the ledger has them.</summary>
    private static async Task<(decimal Receivable, decimal BadDebt)> BalancesAsync(BillingConsole.Persistence.BillingDbContext db, Guid invoiceId)
    {
        var entries = await db.LedgerEntries.AsNoTracking().Where(e => e.InvoiceId == invoiceId).ToListAsync(Ct);
        decimal Balance(LedgerAccount account) => entries.Where(e => e.Account == account).Sum(e => e.Debit - e.Credit);
        return (Balance(LedgerAccount.Receivable), Balance(LedgerAccount.BadDebt));
    }
}
