using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Dunning;

/// <summary>What support can do to a customer's collection, each with a reason, audited under the agent's name.</summary>
public sealed class DunningCommands(BillingDbContext db, PaymentProcessor processor, DunningService dunning, AuditTrail audit, TimeProvider clock)
{
    /// <summary>
    /// Charges the invoice now. The processor's per-invoice lock and its open-invoice check make any number of these at
    /// once end in at most one success; the losers come back busy or refused.
    /// </summary>
    public async Task<ChargeResult> RetryNowAsync(Guid invoiceId, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        var before = await InvoiceStateAsync(invoiceId, ct);
        var result = await processor.ChargeAsync(invoiceId, PaymentTrigger.Manual, actor, ct);
        // Charging is paused: nothing happened, so there is nothing to audit.
        if (result.Status == ChargeStatus.Deferred) return result;
        // The charge saved its own record; whatever a failed event handler left unsaved must not ride along with the audit entry.
        db.ChangeTracker.Clear();
        audit.Record(actor, "dunning.retry_now", "invoice", invoiceId, $"{reason} ({result.Status.ToSnakeCase()})", before,
            await InvoiceStateAsync(invoiceId, CancellationToken.None));
        await db.SaveChangesAsync(CancellationToken.None);
        return result;
    }

    /// <summary>
    /// Puts a stuck case back in the queue, only once the gateway has confirmed that no earlier attempt succeeded: a reset
    /// on a guess could charge the customer twice. Returns false (and changes nothing) when that is not confirmed.
    /// </summary>
    public async Task<bool> ResetStuckCaseAsync(Guid caseId, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        var invoiceId = await db.DunningCases.Where(c => c.Id == caseId).Select(c => (Guid?)c.InvoiceId).FirstOrDefaultAsync(ct)
            ?? throw new ResourceNotFoundException("dunning case", caseId);
        // A success found here closes the case through the payment events.
        if (await processor.ReconcileAsync(invoiceId, actor, ct) is not null) return false;
        var dunningCase = await db.DunningCases.FirstAsync(c => c.Id == caseId, ct);
        if (!dunningCase.IsOpen) return false;
        var invoice = await db.Invoices.FirstAsync(i => i.Id == invoiceId, ct);
        var before = new { Status = dunningCase.Status.ToSnakeCase(), dunningCase.NextAttemptAt };
        dunningCase.Reset(clock.GetUtcNow());
        var policy = await dunning.PolicyInForceAsync(dunningCase, ct);
        await dunning.ScheduleAsync(dunningCase, invoice, policy.Settings, dunningCase.LastDeclineCode ?? DeclineCodes.GenericDecline, ct);
        audit.Record(actor, "dunning.reset", "dunning_case", caseId, reason, before,
            new { Status = dunningCase.Status.ToSnakeCase(), dunningCase.NextAttemptAt });
        await db.SaveChangesAsync(CancellationToken.None);
        return true;
    }

    private async Task<object?> InvoiceStateAsync(Guid invoiceId, CancellationToken ct) =>
        (await db.Invoices.AsNoTracking().Where(i => i.Id == invoiceId).Select(i => new { i.Status, i.AttemptCount, i.PaidAt }).FirstOrDefaultAsync(ct))
        is { } state ? new { Status = state.Status.ToSnakeCase(), state.AttemptCount, state.PaidAt } : null;

    public Task PauseDunningAsync(Guid customerId, Actor actor, string reason, CancellationToken ct) =>
        SetPausedAsync(customerId, paused: true, actor, reason, ct);

    public Task ResumeDunningAsync(Guid customerId, Actor actor, string reason, CancellationToken ct) =>
        SetPausedAsync(customerId, paused: false, actor, reason, ct);

    private async Task SetPausedAsync(Guid customerId, bool paused, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        var customer = await db.Customers.FirstOrDefaultAsync(c => c.Id == customerId, ct) ?? throw new ResourceNotFoundException("customer", customerId);
        var before = new { customer.DunningPaused };
        if (paused) customer.PauseDunning();
        else customer.ResumeDunning();
        audit.Record(actor, paused ? "dunning.paused" : "dunning.resumed", "customer", customerId, reason, before, new { customer.DunningPaused });
        await db.SaveChangesAsync(ct);
    }
}
