using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Dunning;

/// <summary>What a reset did, in a sentence for support: <see cref="Reset"/> is false when nothing was changed.</summary>
public sealed record StuckCaseReset(bool Reset, string Message);

/// <summary>What support can do to a customer's collection, each with a reason, audited under the agent's name.</summary>
public sealed class DunningCommands(BillingDbContext db, PaymentProcessor processor, DunningService dunning, AuditTrail audit, TimeProvider clock,
    IOptionsMonitor<GatewayOptions> gateway)
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
    /// Puts a stuck case (see <see cref="StuckCase"/>) back in the queue, only once the gateway has confirmed that no earlier
    /// attempt succeeded: a reset on a guess could charge the customer twice. A case that is not stuck, or whose attempt the
    /// gateway cannot confirm, is left as it is, and the outcome says why.
    /// </summary>
    public async Task<StuckCaseReset> ResetStuckCaseAsync(Guid caseId, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        var found = await db.DunningCases.AsNoTracking().Where(c => c.Id == caseId).Select(c => new { c.InvoiceId, c.Status, c.UpdatedAt }).FirstOrDefaultAsync(ct)
            ?? throw new ResourceNotFoundException("dunning case", caseId);
        var unconfirmedSince = await db.PaymentAttempts.Where(a => a.InvoiceId == found.InvoiceId
                && (a.Status == PaymentAttemptStatus.Pending || a.Status == PaymentAttemptStatus.Unknown))
            .MinAsync(a => (DateTimeOffset?)a.StartedAt, ct);
        var isOpen = found.Status is DunningStatus.RetryPending or DunningStatus.Retrying or DunningStatus.AwaitingPaymentMethod;
        var stuck = StuckCase.From(gateway.CurrentValue).Why(isOpen, found.Status == DunningStatus.Retrying ? found.UpdatedAt : null, unconfirmedSince,
            clock.GetUtcNow());
        if (stuck is null)
            return new(false, "Nothing was reset: the case is not stuck (no retry running past the charge deadline, no attempt unconfirmed past the reconciliation grace).");
        // A success found here closes the case through the payment events.
        if (await processor.ReconcileAsync(found.InvoiceId, actor, ct) is { } reconciled)
            return new(false, reconciled.Status == ChargeStatus.Succeeded
                ? "Nothing was reset: the gateway reported that the unconfirmed payment succeeded, so the invoice is paid and the case closed."
                : "Nothing was reset: the gateway has not confirmed the outcome of the unconfirmed payment yet; try again later.");
        var dunningCase = await db.DunningCases.FirstAsync(c => c.Id == caseId, ct);
        if (!dunningCase.IsOpen) return new(false, "Nothing was reset: the case closed meanwhile.");
        var invoice = await db.Invoices.FirstAsync(i => i.Id == found.InvoiceId, ct);
        var before = new { Status = dunningCase.Status.ToSnakeCase(), dunningCase.NextAttemptAt };
        dunningCase.Reset(clock.GetUtcNow());
        var policy = await dunning.PolicyInForceAsync(dunningCase, ct);
        await dunning.ScheduleAsync(dunningCase, invoice, policy.Settings, dunningCase.LastDeclineCode ?? DeclineCodes.GenericDecline, ct);
        audit.Record(actor, "dunning.reset", "dunning_case", caseId, reason, before,
            new { Status = dunningCase.Status.ToSnakeCase(), dunningCase.NextAttemptAt });
        await db.SaveChangesAsync(CancellationToken.None);
        var next = dunningCase.NextAttemptAt is { } at ? $"next retry {at:yyyy-MM-dd HH:mm} UTC" : $"now {dunningCase.Status.ToSnakeCase().Replace('_', ' ')}";
        return new(true, $"Reset: {stuck} The gateway confirmed no payment succeeded; the case is back in the queue, {next}.");
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
        await db.InTransactionAsync(async () =>
        {
            await db.LockCustomerAsync(customerId, ct);
            var customer = await db.Customers.FirstOrDefaultAsync(c => c.Id == customerId, ct) ?? throw new ResourceNotFoundException("customer", customerId);
            // Pausing is for a collection under way; with nothing open there is nothing to hold back.
            if (paused && !await db.DunningCases.AnyAsync(c => c.CustomerId == customerId
                    && (c.Status == DunningStatus.RetryPending || c.Status == DunningStatus.Retrying || c.Status == DunningStatus.AwaitingPaymentMethod), ct))
                throw new DomainRuleException($"{customer.Name} has no open dunning case, so there is no dunning to pause; nothing was changed.");
            var before = new { customer.DunningPaused };
            if (paused) customer.PauseDunning();
            else customer.ResumeDunning();
            audit.Record(actor, paused ? "dunning.paused" : "dunning.resumed", "customer", customerId, reason, before, new { customer.DunningPaused });
            await db.SaveChangesAsync(ct);
            return paused;
        }, ct);
    }
}
