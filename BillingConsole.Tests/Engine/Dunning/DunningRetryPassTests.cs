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
/// The retry pass charges a round of due cases as one batch: two runners at once share the cases without charging one twice,
/// and an invoice whose earlier attempt is unknown is reconciled with the gateway before anything new is charged.
/// </summary>
public sealed class DunningRetryPassTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Agent = new("agent@example.test", "support");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("retrypass");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>Open invoices of 20 whose billing-run charge was declined, each with its dunning case; the cards they are retried on.</summary>
    private async Task<List<Guid>> DeclinedInvoicesAsync(IReadOnlyList<string> retryCards)
    {
        var invoices = new List<(Guid InvoiceId, Guid CustomerId)>();
        foreach (var _ in retryCards) invoices.Add(await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_"));
        var first = await _engine.InScopeAsync<PaymentProcessor, IReadOnlyList<ChargeResult>>(p =>
            p.ChargeManyAsync([.. invoices.Select(i => i.InvoiceId)], PaymentTrigger.BillingRun, Actor.System, Ct));
        Assert.All(first, r => Assert.Equal(ChargeStatus.Failed, r.Status));
        await using var db = _database.NewContext();
        foreach (var ((_, customerId), card) in invoices.Zip(retryCards))
        {
            var customer = await db.Customers.Include(c => c.PaymentMethods).SingleAsync(c => c.Id == customerId, Ct);
            customer.AttachPaymentMethod("sandbox", card + Guid.NewGuid().ToString("N"), "visa", "4242", 12, 2031, _engine.Clock.GetUtcNow());
        }
        await db.SaveChangesAsync(Ct);
        return [.. invoices.Select(i => i.InvoiceId)];
    }

    /// <summary>Moves the clock to the moment the last of the open cases is due for its first retry.</summary>
    private async Task UntilAllDueAsync()
    {
        await using var db = _database.NewContext();
        var lastDue = await db.DunningCases.MaxAsync(c => c.NextAttemptAt, Ct);
        Assert.NotNull(lastDue);
        _engine.Clock.SetUtcNow(lastDue.Value);
    }

    [Fact]
    public async Task Two_runners_claiming_at_once_retry_every_due_case_once_and_never_charge_one_twice()
    {
        // More cases than one round, so each runner goes round more than once while the other claims.
        var count = DunningRetryRunner.CasesPerRound + 60;
        var cards = Enumerable.Range(0, count).Select(i => i % 3 == 0 ? "pm_ok_" : "pm_do_not_honor_").ToList();
        var invoiceIds = await DeclinedInvoicesAsync(cards);
        await UntilAllDueAsync();
        await using var otherNode = EngineServices.Create(_database, _engine.Clock, _engine.Gateway);

        var started = await Task.WhenAll(
            Task.Run(() => _engine.Get<DunningRetryRunner>().RunDueAsync(Ct)),
            Task.Run(() => otherNode.Get<DunningRetryRunner>().RunDueAsync(Ct)));

        Assert.Equal(count, started.Sum());
        var paidCount = cards.Count(c => c == "pm_ok_");
        Assert.Equal(paidCount, _engine.Gateway.SuccessfulChargeCount);
        await using var db = _database.NewContext();
        var attempts = await db.PaymentAttempts.AsNoTracking().Where(a => invoiceIds.Contains(a.InvoiceId)).ToListAsync(Ct);
        Assert.All(attempts.GroupBy(a => a.InvoiceId), invoice => Assert.Equal([1, 2], invoice.Select(a => a.AttemptNumber).Order()));
        Assert.All(attempts.Where(a => a.AttemptNumber == 2), a => Assert.Equal(PaymentTrigger.DunningRetry, a.Trigger));
        var cases = await db.DunningCases.AsNoTracking().Where(c => invoiceIds.Contains(c.InvoiceId)).ToListAsync(Ct);
        Assert.Equal(count, cases.Count);
        Assert.All(cases, c => Assert.Equal(1, c.RetriesMade));
        Assert.Equal(paidCount, cases.Count(c => c.Status == DunningStatus.Recovered));
        Assert.All(cases.Where(c => c.Status != DunningStatus.Recovered), c =>
        {
            Assert.Equal(DunningStatus.RetryPending, c.Status);
            Assert.Equal(DeclineCodes.DoNotHonor, c.LastDeclineCode);
            Assert.True(c.NextAttemptAt > _engine.Clock.GetUtcNow());
        });
        Assert.Equal(paidCount, await db.Invoices.CountAsync(i => invoiceIds.Contains(i.Id) && i.Status == InvoiceStatus.Paid, Ct));
        var cash = await db.LedgerEntries.Where(e => invoiceIds.Contains(e.InvoiceId!.Value) && e.Account == LedgerAccount.Cash).SumAsync(e => e.Debit - e.Credit, Ct);
        Assert.Equal(20m * paidCount, cash);
        Assert.Equal(paidCount, await db.AuditLog.CountAsync(a => a.Action == "dunning.recovered", Ct));

        // Nothing is due any more: a second pass claims nothing.
        Assert.Equal(0, await _engine.Get<DunningRetryRunner>().RunDueAsync(Ct));
    }

    [Fact]
    public async Task A_case_whose_invoice_has_an_unknown_attempt_is_reconciled_before_any_new_charge_while_its_round_is_charged()
    {
        // The first invoice's card times out, though the gateway charges it behind the timeout; the others decline again.
        var invoiceIds = await DeclinedInvoicesAsync(["pm_timeout_ok_", "pm_do_not_honor_", "pm_do_not_honor_", "pm_do_not_honor_"]);
        var timedOutId = invoiceIds[0];
        // An agent's charge of the waiting case times out: attempt 2 is unknown, and the case still waits for its retry.
        var manual = await _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(timedOutId, PaymentTrigger.Manual, Agent, Ct));
        Assert.Equal(ChargeStatus.Unknown, manual.Status);
        Assert.Equal(1, _engine.Gateway.SuccessfulChargeCount);
        await UntilAllDueAsync();

        Assert.Equal(invoiceIds.Count, await _engine.Get<DunningRetryRunner>().RunDueAsync(Ct));

        // Reconciled to paid: no third attempt, and the gateway still holds the one charge.
        Assert.Equal(1, _engine.Gateway.SuccessfulChargeCount);
        await using var db = _database.NewContext();
        var attempts = await db.PaymentAttempts.AsNoTracking().Where(a => a.InvoiceId == timedOutId).OrderBy(a => a.AttemptNumber).ToListAsync(Ct);
        Assert.Equal([PaymentAttemptStatus.Failed, PaymentAttemptStatus.Succeeded], attempts.Select(a => a.Status));
        Assert.Equal(InvoiceStatus.Paid, (await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == timedOutId, Ct)).Status);
        Assert.Equal(DunningStatus.Recovered, (await db.DunningCases.AsNoTracking().SingleAsync(c => c.InvoiceId == timedOutId, Ct)).Status);
        // The rest of the round was charged anew.
        var others = await db.PaymentAttempts.AsNoTracking().Where(a => invoiceIds.Skip(1).Contains(a.InvoiceId) && a.AttemptNumber == 2).ToListAsync(Ct);
        Assert.Equal(3, others.Count);
        Assert.All(others, a => Assert.Equal((PaymentTrigger.DunningRetry, PaymentAttemptStatus.Failed), (a.Trigger, a.Status)));
    }
}
