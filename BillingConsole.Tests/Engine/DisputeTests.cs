using BillingConsole.Domain.Common;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine;

/// <summary>Disputes the gateway reports on a paid invoice's payment, through the engine, over a real database.</summary>
public sealed class DisputeTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("disputes");
        _engine = EngineServices.Create(_database);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    private async Task<(Guid InvoiceId, Guid CustomerId, string Reference)> PaidInvoiceAsync()
    {
        var (invoiceId, customerId) = await _engine.OpenInvoiceAsync(new BillingTestData(_database, _engine.Clock.GetUtcNow()), "pm_ok_");
        var charge = await _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.Manual, Actor.System, Ct));
        await using var db = _database.NewContext();
        var reference = await db.PaymentAttempts.Where(a => a.Id == charge.AttemptId).Select(a => a.GatewayReference!).SingleAsync(Ct);
        return (invoiceId, customerId, reference);
    }

    private Task<DisputeView?> ReportAsync(string disputeId, string reference, string status, decimal fee = 15m) =>
        _engine.InScopeAsync<DisputeCommands, DisputeView?>(c => c.ApplyReportedAsync(new ReportedDispute(disputeId, ["pi_other", reference], status,
            new Money(20m, "USD"), new Money(fee, "USD"), "fraudulent", _engine.Clock.GetUtcNow().AddDays(5)), Ct));

    private async Task<(Dictionary<LedgerAccount, decimal> Balances, bool Balanced, int Entries)> LedgerAsync(Guid customerId)
    {
        await using var db = _database.NewContext();
        var ledger = await db.LedgerEntries.AsNoTracking().Where(e => e.CustomerId == customerId).ToListAsync(Ct);
        return (Enum.GetValues<LedgerAccount>().ToDictionary(a => a, a => ledger.Where(e => e.Account == a).Sum(e => e.Debit - e.Credit)),
            ledger.GroupBy(e => e.TransactionId).All(t => t.Sum(e => e.Debit) == t.Sum(e => e.Credit)), ledger.Count);
    }

    [Fact]
    public async Task A_dispute_withdraws_the_amount_and_fee_once_and_a_won_one_gives_the_amount_back()
    {
        var (_, customerId, reference) = await PaidInvoiceAsync();
        var paid = await LedgerAsync(customerId);

        var inquiry = await ReportAsync("du_1", reference, "warning_needs_response");
        Assert.Equal(paid.Entries, (await LedgerAsync(customerId)).Entries);

        var opened = await ReportAsync("du_1", reference, "needs_response");
        var again = await ReportAsync("du_1", reference, "needs_response");
        var withdrawn = await LedgerAsync(customerId);

        Assert.Equal(("warning_needs_response", "needs_response"), (inquiry!.Status, opened!.Status));
        Assert.Equal(opened.Id, again!.Id);
        Assert.True(withdrawn.Balanced);
        Assert.Equal((20m, 15m, -15m), (withdrawn.Balances[LedgerAccount.Chargebacks], withdrawn.Balances[LedgerAccount.DisputeFees],
            withdrawn.Balances[LedgerAccount.Cash]));

        await ReportAsync("du_1", reference, "under_review");
        var won = await ReportAsync("du_1", reference, "won");
        var late = await ReportAsync("du_1", reference, "lost");
        var after = await LedgerAsync(customerId);

        Assert.Equal(("won", "won"), (won!.Status, late!.Status));
        Assert.NotNull(won.ClosedAt);
        Assert.True(after.Balanced);
        Assert.Equal((0m, 15m, 5m), (after.Balances[LedgerAccount.Chargebacks], after.Balances[LedgerAccount.DisputeFees], after.Balances[LedgerAccount.Cash]));
        await using var db = _database.NewContext();
        Assert.Equal(["dispute.opened", "dispute.updated", "dispute.updated", "dispute.updated", "dispute.closed"],
            await db.AuditLog.Where(a => a.Action.StartsWith("dispute.")).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync(Ct));
    }

    [Fact]
    public async Task A_lost_dispute_keeps_the_chargeback_and_one_about_no_payment_of_ours_is_ignored()
    {
        var (_, customerId, reference) = await PaidInvoiceAsync();

        var lost = await ReportAsync("du_2", reference, "lost", fee: 0m);
        var foreign = await ReportAsync("du_3", "ch_not_ours", "needs_response");
        var unknownStatus = await ReportAsync("du_4", reference, "escalated_to_the_moon");

        Assert.Equal("lost", lost!.Status);
        Assert.Null(foreign);
        Assert.Null(unknownStatus);
        var ledger = await LedgerAsync(customerId);
        Assert.True(ledger.Balanced);
        Assert.Equal((20m, 0m, 0m), (ledger.Balances[LedgerAccount.Chargebacks], ledger.Balances[LedgerAccount.DisputeFees], ledger.Balances[LedgerAccount.Cash]));
    }
}
