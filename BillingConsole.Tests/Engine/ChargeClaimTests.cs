using BillingConsole.Configuration;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Tests.Engine;

/// <summary>
/// The invoice charge claim (InvoiceChargeLock): it keeps concurrent charges of one invoice apart through PgBouncer in
/// transaction mode, where a session lock would be handed to other clients, and a claim whose node died expires so that
/// the reconciliation job settles the charge it left.
/// </summary>
public sealed class ChargeClaimTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Agent = new("support@example.test", "support");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("charge_claims");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Twenty_concurrent_manual_retries_through_PgBouncer_in_transaction_mode_charge_the_invoice_once()
    {
        // Fewer server connections than callers: every statement may run on a connection another caller used just before.
        await using var bouncer = await TestPgBouncer.StartAsync(poolSize: 4);
        await using var node = EngineServices.Create(_database, settings: new Dictionary<string, string?>
        {
            ["ConnectionStrings:Billing"] = bouncer.ConnectionStringFor(_database.Name),
        });
        var (invoiceId, customerId) = await node.OpenInvoiceAsync(_data, "pm_insufficient_funds_");
        var declined = await node.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.BillingRun, Actor.System, Ct));
        Assert.Equal(ChargeStatus.Failed, declined.Status);
        await node.InScopeAsync<CustomerCommands>(c => c.AttachPaymentMethodAsync(customerId,
            new AttachPaymentMethod("sandbox", $"pm_slow_{Guid.NewGuid():N}", "visa", "4242", 12, 2031), Agent, "New card", Ct));

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            node.InScopeAsync<DunningCommands, ChargeResult>(c => c.RetryNowAsync(invoiceId, Agent, $"Customer called ({i})", Ct)))));

        Assert.Single(results, r => r.Status == ChargeStatus.Succeeded);
        Assert.All(results.Where(r => r.Status != ChargeStatus.Succeeded), r => Assert.Contains(r.Status, new[] { ChargeStatus.Busy, ChargeStatus.Refused }));
        Assert.Equal(1, node.Gateway.SuccessfulChargeCount);
        await using var db = _database.NewContext();
        Assert.Equal(InvoiceStatus.Paid, (await db.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId, Ct)).Status);
        Assert.Single(await db.PaymentAttempts.AsNoTracking().Where(a => a.InvoiceId == invoiceId && a.Status == PaymentAttemptStatus.Succeeded).ToListAsync(Ct));
        Assert.Null(await ClaimTokenAsync(invoiceId));
    }

    [Fact]
    public async Task A_charge_whose_node_died_is_busy_until_its_claim_lapses_then_the_reconciliation_charges_it_once()
    {
        var (invoiceId, _) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");
        // What a node leaves when it dies mid-charge: the invoice claimed, the attempt saved as pending, the gateway never told.
        await using (var connection = new NpgsqlConnection(_database.ConnectionString))
        {
            await connection.OpenAsync(Ct);
            var now = _engine.Clock.GetUtcNow();
            Assert.Single(await ChargeClaims.TryClaimAsync(connection, [invoiceId], Guid.NewGuid(), now, now + new BillingOptions().ChargeClaimLifetime, Ct));
        }
        await using (var db = _database.NewContext())
        {
            var invoice = await db.Invoices.SingleAsync(i => i.Id == invoiceId, Ct);
            var method = await db.PaymentMethods.SingleAsync(p => p.CustomerId == invoice.CustomerId, Ct);
            invoice.RecordAttempt();
            db.PaymentAttempts.Add(new PaymentAttempt(invoiceId, invoice.CustomerId, method.Id, 1, invoice.AmountDue, "sandbox", PaymentTrigger.BillingRun,
                _engine.Clock.GetUtcNow()));
            await db.SaveChangesAsync(Ct);
        }
        var reconciler = _engine.Get<PaymentReconciler>();

        Assert.Equal(ChargeStatus.Busy, (await ChargeAsync(invoiceId)).Status);
        // Until the claim lapses the charge may still be under way somewhere.
        _engine.Clock.Advance(new BillingOptions().ChargeClaimLifetime - TimeSpan.FromSeconds(1));
        Assert.Equal(ChargeStatus.Busy, (await ChargeAsync(invoiceId)).Status);
        // Past its lifetime and the reconciliation's grace.
        _engine.Clock.Advance(TimeSpan.FromMinutes(5));
        var pass = await reconciler.RunAsync(Ct);

        Assert.Equal(new ReconciliationSummary(1, 0, 0, 0), pass);
        await using var check = _database.NewContext();
        Assert.Equal(InvoiceStatus.Paid, (await check.Invoices.AsNoTracking().SingleAsync(i => i.Id == invoiceId, Ct)).Status);
        var attempt = Assert.Single(await check.PaymentAttempts.AsNoTracking().Where(a => a.InvoiceId == invoiceId).ToListAsync(Ct));
        Assert.Equal((PaymentAttemptStatus.Succeeded, PaymentAttempt.KeyFor(invoiceId, 1)), (attempt.Status, attempt.IdempotencyKey));
        Assert.Equal(1, _engine.Gateway.SuccessfulChargeCount);
        Assert.Null(await ClaimTokenAsync(invoiceId));
        Assert.Equal(ChargeStatus.Refused, (await ChargeAsync(invoiceId)).Status);
    }

    [Fact]
    public async Task The_reconciliation_deletes_claims_that_lapsed_before_its_grace_and_leaves_the_others()
    {
        var (paidElsewhere, _) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");
        var (chargedNow, _) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");
        var now = _engine.Clock.GetUtcNow();
        var grace = TimeSpan.FromSeconds(new GatewayOptions().ReconcileGraceSeconds);
        await using (var connection = new NpgsqlConnection(_database.ConnectionString))
        {
            await connection.OpenAsync(Ct);
            // A node that died holding a claim on an invoice nobody charged again, and a live charge's claim.
            Assert.Single(await ChargeClaims.TryClaimAsync(connection, [paidElsewhere], Guid.NewGuid(), now - grace - TimeSpan.FromMinutes(2), now - grace - TimeSpan.FromMinutes(1), Ct));
            Assert.Single(await ChargeClaims.TryClaimAsync(connection, [chargedNow], Guid.NewGuid(), now, now + new BillingOptions().ChargeClaimLifetime, Ct));
        }

        await _engine.Get<PaymentReconciler>().RunAsync(Ct);

        Assert.Null(await ClaimTokenAsync(paidElsewhere));
        Assert.NotNull(await ClaimTokenAsync(chargedNow));
    }

    private Task<ChargeResult> ChargeAsync(Guid invoiceId) =>
        _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.Manual, Agent, Ct));

    private async Task<Guid?> ClaimTokenAsync(Guid invoiceId)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        return await connection.ExecuteScalarAsync<Guid?>("select token from invoice_charge_claims where invoice_id = @invoiceId", new { invoiceId });
    }
}
