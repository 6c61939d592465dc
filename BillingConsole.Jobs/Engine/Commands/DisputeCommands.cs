using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Commands;

/// <summary>A dispute as the gateway reports it (Stripe's charge.dispute.* events).</summary>
/// <param name="PaymentReferences">The charge and payment intent it is about; either may be the payment attempt's reference.</param>
/// <param name="Status">Stripe's status: warning_needs_response, needs_response, under_review, won, lost, …</param>
public sealed record ReportedDispute(string DisputeId, IReadOnlyList<string> PaymentReferences, string Status, Money Amount, Money Fee, string Reason,
    DateTimeOffset? EvidenceDueBy);

public sealed record DisputeView(Guid Id, string GatewayDisputeId, Guid InvoiceId, Guid PaymentId, string Status, decimal Amount, decimal Fee,
    string Currency, string Reason, DateTimeOffset? EvidenceDueBy, DateTimeOffset? ClosedAt)
{
    public static DisputeView From(Dispute d) => new(d.Id, d.GatewayDisputeId, d.InvoiceId, d.PaymentAttemptId, d.Status.ToSnakeCase(),
        Amounts.Of(d.Amount), Amounts.Of(d.Fee), d.Currency, d.Reason, d.EvidenceDueBy, d.ClosedAt);
}

/// <summary>
/// Records disputes the gateway reports on our payments, under the customer's lock: the first report opens the dispute, later
/// ones update it until it closes. The ledger records the chargeback and the fee when the funds are withdrawn, and the
/// reversal when the dispute is won. Each report is audited on the invoice.
/// </summary>
public sealed class DisputeCommands(BillingDbContext db, AuditTrail audit, TimeProvider clock)
{
    /// <summary>Null when the dispute is about no payment of ours, or its status is not one we know.</summary>
    public async Task<DisputeView?> ApplyReportedAsync(ReportedDispute report, CancellationToken ct)
    {
        if (!EnumNames.TryParseSnakeCase<DisputeStatus>(report.Status, out var status)) return null;
        var references = report.PaymentReferences.ToList();
        var paymentId = await db.PaymentAttempts.Where(a => a.Status == PaymentAttemptStatus.Succeeded && references.Contains(a.GatewayReference!))
            .Select(a => (Guid?)a.Id).FirstOrDefaultAsync(ct);
        if (paymentId is null) return null;
        db.ChangeTracker.Clear();
        return await db.InTransactionAsync(async () =>
        {
            var payment = await db.PaymentAttempts.SingleAsync(a => a.Id == paymentId, ct);
            await db.LockCustomerAsync(payment.CustomerId, ct);
            var now = clock.GetUtcNow();
            var dispute = await db.Disputes.SingleOrDefaultAsync(d => d.GatewayDisputeId == report.DisputeId, ct);
            // A closed dispute is final: a late or repeated report changes nothing.
            if (dispute?.ClosedAt is not null) return DisputeView.From(dispute);
            var opened = dispute is null;
            if (dispute is null) db.Disputes.Add(dispute = new Dispute(report.DisputeId, payment, now));
            var movement = dispute.Report(status, report.Amount, report.Fee, report.Reason, report.EvidenceDueBy, now);
            db.LedgerEntries.AddRange(LedgerPostings.DisputeMoved(dispute, movement, now).SelectMany(t => t.Balanced()));
            var view = DisputeView.From(dispute);
            var action = opened ? "dispute.opened" : dispute.ClosedAt is not null ? "dispute.closed" : "dispute.updated";
            audit.Record(Actor.System, action, "invoice", dispute.InvoiceId, $"The gateway reported dispute {report.DisputeId}: {report.Status}", null, view);
            await db.SaveChangesAsync(ct);
            return view;
        }, ct);
    }
}
