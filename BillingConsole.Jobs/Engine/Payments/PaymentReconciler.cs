using BillingConsole.Configuration;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.Engine.Payments;

/// <summary>What one reconciliation pass did, invoice by invoice.</summary>
/// <param name="Paid">The gateway had charged behind an unknown answer, or charged the attempt it had never received when it
/// was sent again: the invoice is now paid.</param>
/// <param name="NotCharged">Every unresolved attempt was declined, or declined when sent again: nothing was charged.</param>
/// <param name="StillUnknown">The gateway did not answer the look-up; the next pass asks again.</param>
/// <param name="LeftToOthers">A charge or another node held the invoice, or had settled it by the time it was looked at.</param>
/// <param name="CasesOpened">Failed invoices given the dunning case a failed payment event handler had not opened.</param>
public sealed record ReconciliationSummary(int Paid, int NotCharged, int StillUnknown, int LeftToOthers, int CasesOpened = 0);

/// <summary>
/// Resolves payment attempts left unknown (a gateway timeout, a 5xx) or pending (a crash between saving and calling) by asking
/// the gateway with their own keys through <see cref="PaymentProcessor.SettleUnresolvedAsync"/>; an attempt the gateway never
/// received is sent then under its own key, so it is charged once and never left hanging. The processor's per-invoice lock
/// makes two nodes running this at once harmless: the second finds the invoice busy or already settled. It also opens the
/// dunning case of a failed invoice that has none (see <see cref="OpenMissingDunningCasesAsync"/>), and deletes the charge
/// claims that lapsed before the grace period began.
/// </summary>
public sealed class PaymentReconciler(IServiceScopeFactory scopes, NpgsqlDataSource dataSource, TimeProvider clock,
    IOptionsMonitor<GatewayOptions> options, ILogger<PaymentReconciler> logger)
{
    /// <summary>Invoices looked up per run of the job; the rest wait for the next run.</summary>
    public const int InvoicesPerRun = 500;

    public async Task<ReconciliationSummary> RunAsync(CancellationToken ct)
    {
        // Younger attempts may still be in flight, and a gateway's search may not have indexed them yet.
        var cutoff = clock.GetUtcNow() - TimeSpan.FromSeconds(options.CurrentValue.ReconcileGraceSeconds);
        List<Guid> invoiceIds;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
            invoiceIds = await db.PaymentAttempts.AsNoTracking()
                .Where(a => (a.Status == PaymentAttemptStatus.Unknown || a.Status == PaymentAttemptStatus.Pending) && a.StartedAt < cutoff)
                .Where(a => db.Invoices.Any(i => i.Id == a.InvoiceId && i.Status == InvoiceStatus.Open))
                .Where(a => OnClockInForce(db).Any(c => c.Id == a.CustomerId))
                .GroupBy(a => a.InvoiceId)
                .OrderBy(g => g.Min(a => a.StartedAt))
                .Select(g => g.Key)
                .Take(InvoicesPerRun)
                .ToListAsync(ct);
        }

        int paid = 0, notCharged = 0, unknown = 0, leftToOthers = 0;
        foreach (var invoiceId in invoiceIds)
        {
            await using var scope = scopes.CreateAsyncScope();
            var result = await scope.ServiceProvider.GetRequiredService<PaymentProcessor>().SettleUnresolvedAsync(invoiceId, Actor.System, ct);
            switch (result?.Status)
            {
                case null or ChargeStatus.Failed: notCharged++; break;
                case ChargeStatus.Succeeded when result.Reconciled || result.AttemptId is not null: paid++; break;
                case ChargeStatus.Unknown: unknown++; break;
                default: leftToOthers++; break;
            }
        }
        var summary = new ReconciliationSummary(paid, notCharged, unknown, leftToOthers, await OpenMissingDunningCasesAsync(ct));
        // After the settling, which takes over the claims of the attempts it settles: what is left lapsed on invoices no
        // charge came back to.
        await ChargeClaims.DeleteLapsedAsync(dataSource, cutoff, ct);
        if (invoiceIds.Count > 0)
            logger.LogInformation("Reconciled unresolved payment attempts of {Invoices} invoices: {Paid} paid, {NotCharged} not charged, {StillUnknown} still unknown, {LeftToOthers} left to others",
                invoiceIds.Count, paid, notCharged, unknown, leftToOthers);
        return summary;
    }

    /// <summary>
    /// Opens the dunning case of an open invoice whose last attempt failed and that never had one: the failure was recorded,
    /// but the handler that opens the case failed (logged, and thrown to the charge's caller). Done under the invoice's
    /// charge lock, through the same <see cref="DunningService"/> a charge tells. Returns how many cases were opened.
    /// </summary>
    public async Task<int> OpenMissingDunningCasesAsync(CancellationToken ct)
    {
        List<Guid> invoiceIds;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
            invoiceIds = await MissingDunningCases(db).OrderBy(i => i.Id).Select(i => i.Id).Take(InvoicesPerRun).ToListAsync(ct);
        }
        var opened = 0;
        foreach (var invoiceId in invoiceIds)
        {
            await using var scope = scopes.CreateAsyncScope();
            var services = scope.ServiceProvider;
            var db = services.GetRequiredService<BillingDbContext>();
            var open = await services.GetRequiredService<InvoiceChargeLock>().RunAsync(invoiceId, async () =>
            {
                // Asked again under the lock: a charge may have moved the invoice on meanwhile.
                var invoice = await MissingDunningCases(db).AsTracking().FirstOrDefaultAsync(i => i.Id == invoiceId, ct);
                if (invoice is null) return false;
                var attempt = await db.PaymentAttempts.FirstAsync(a => a.InvoiceId == invoiceId && a.AttemptNumber == invoice.AttemptCount, ct);
                await services.GetRequiredService<DunningService>().OnPaymentsFailedAsync([(attempt, invoice)], ct);
                logger.LogWarning("Opened the missing dunning case of invoice {InvoiceNumber} ({InvoiceId}), whose attempt {AttemptNumber} failed ({DeclineCode})",
                    invoice.Number, invoice.Id, attempt.AttemptNumber, attempt.DeclineCode);
                return true;
            }, () => false, ct);
            if (open) opened++;
        }
        return opened;
    }

    /// <summary>Open invoices whose last attempt failed and that have no dunning case, open or closed.</summary>
    private static IQueryable<Invoice> MissingDunningCases(BillingDbContext db) =>
        db.Invoices.AsNoTracking().Where(i => i.Status == InvoiceStatus.Open && i.AttemptCount > 0
            && db.PaymentAttempts.Any(a => a.InvoiceId == i.Id && a.AttemptNumber == i.AttemptCount && a.Status == PaymentAttemptStatus.Failed)
            && !db.DunningCases.Any(c => c.InvoiceId == i.Id)
            && OnClockInForce(db).Any(c => c.Id == i.CustomerId));

    /// <summary>
    /// The customers of the test clock in force, or those without one outside a clock: the job never settles a test customer's
    /// charge at real time. EF Core writes the comparison as <c>test_clock_id is null</c> when no clock is in force.
    /// </summary>
    private static IQueryable<Domain.Customers.Customer> OnClockInForce(BillingDbContext db)
    {
        var clockId = EngineClock.TestClockId;
        return db.Customers.Where(c => c.TestClockId == clockId);
    }
}
