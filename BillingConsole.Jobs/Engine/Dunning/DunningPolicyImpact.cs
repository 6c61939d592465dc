using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Dunning;

/// <summary>
/// What a policy version saved for open cases does to the cases waiting for a retry: how many it closes with its final
/// action (and what that writes off, per currency), how many it sends to wait for a new card, and how many retries it moves.
/// </summary>
public sealed record PolicyImpact(int CasesWaiting, int CasesClosing, int CasesAwaitingNewCard, int RetriesMoving, IReadOnlyList<Money> WrittenOff)
{
    public static PolicyImpact None { get; } = new(0, 0, 0, 0, []);
}

/// <summary>
/// The preview shown before an admin saves a policy for open cases: what the save does at once (<see cref="OnSave"/>), and
/// the cases whose final-action day under the new ladder has already passed, which the next ladder pass closes.
/// </summary>
public sealed record PolicyImpactPreview(PolicyImpact OnSave, int CasesClosingAtLadderPass, IReadOnlyList<Money> WrittenOffAtLadderPass);

/// <summary>Counts what happens to each waiting case; the preview and the save tally with this one class, so they agree.</summary>
public sealed class PolicyImpactTally(FinalAction finalAction)
{
    private readonly SortedDictionary<string, decimal> _writtenOff = new(StringComparer.Ordinal);
    private int _waiting;
    private int _closing;
    private int _awaitingCard;
    private int _moving;

    /// <summary>One waiting case, scheduled for <paramref name="scheduledAt"/>, ends <paramref name="outcome"/> (next retry at <paramref name="nextAt"/>).</summary>
    public void Add(DateTimeOffset? scheduledAt, DunningStatus outcome, DateTimeOffset? nextAt, Money due)
    {
        _waiting++;
        switch (outcome)
        {
            case DunningStatus.RetryPending when nextAt != scheduledAt:
                _moving++;
                break;
            case DunningStatus.AwaitingPaymentMethod:
                _awaitingCard++;
                break;
            case DunningStatus.Exhausted:
                Close(due);
                break;
        }
    }

    /// <summary>A case the final action closes (the amount due on its invoice is written off when that is the action).</summary>
    public void Close(Money due)
    {
        _closing++;
        if (finalAction == FinalAction.MarkUncollectible && due.IsPositive)
            _writtenOff[due.Currency] = _writtenOff.GetValueOrDefault(due.Currency) + due.Amount;
    }

    public PolicyImpact Impact() =>
        new(_waiting, _closing, _awaitingCard, _moving, [.. _writtenOff.Select(pair => new Money(pair.Value, pair.Key))]);
}

/// <summary>
/// Computes <see cref="PolicyImpactPreview"/> for a proposed policy from the open cases, with the same decisions the save
/// makes (<see cref="DunningService.DecideAsync"/>) and the same ladder rule as the ladder pass; writes nothing.
/// </summary>
public sealed class DunningPolicyImpactPreviewer(BillingDbContext db, DunningService dunning, TimeProvider clock)
{
    private const int Batch = 500;

    public async Task<PolicyImpactPreview> PreviewAsync(DunningPolicySettings proposed, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var onSave = new PolicyImpactTally(proposed.FinalAction);
        var atLadderPass = new PolicyImpactTally(proposed.FinalAction);
        var open = await db.DunningCases.AsNoTracking()
            .Where(c => c.Status == DunningStatus.RetryPending || c.Status == DunningStatus.AwaitingPaymentMethod)
            .OrderBy(c => c.Id).ToListAsync(ct);
        foreach (var cases in open.Chunk(Batch))
        {
            var caseIds = cases.Select(c => c.Id).ToList();
            var lastStepDays = await db.Set<DunningStepTaken>().Where(s => caseIds.Contains(s.CaseId))
                .GroupBy(s => s.CaseId).Select(g => new { g.Key, Day = g.Max(s => s.Day) }).ToDictionaryAsync(s => s.Key, s => s.Day, ct);
            var invoiceIds = cases.Select(c => c.InvoiceId).ToList();
            var invoices = await db.Invoices.AsNoTracking().Where(i => invoiceIds.Contains(i.Id)).ToDictionaryAsync(i => i.Id, ct);
            var customerIds = cases.Select(c => c.CustomerId).Distinct().ToList();
            var paused = await db.Customers.Where(u => u.DunningPaused && customerIds.Contains(u.Id)).Select(u => u.Id).ToListAsync(ct);
            foreach (var dunningCase in cases)
            {
                var invoice = invoices[dunningCase.InvoiceId];
                var outcome = dunningCase.Status;
                if (outcome == DunningStatus.RetryPending)
                {
                    var decision = await dunning.DecideAsync(dunningCase, proposed, dunningCase.LastDeclineCode ?? DeclineCodes.GenericDecline, ct);
                    (outcome, var nextAt) = decision switch
                    {
                        RetryDecision.Retry retry => (DunningStatus.RetryPending, (DateTimeOffset?)retry.At),
                        RetryDecision.Stop { Kind: StopKind.HardDecline } => (DunningStatus.AwaitingPaymentMethod, null),
                        _ => (DunningStatus.Exhausted, null),
                    };
                    onSave.Add(dunningCase.NextAttemptAt, outcome, nextAt, invoice.AmountDue);
                }
                if (outcome != DunningStatus.Exhausted && invoice.Status == InvoiceStatus.Open && !paused.Contains(dunningCase.CustomerId)
                    && EscalationLadder.Due(dunningCase.OpenedAt, lastStepDays.GetValueOrDefault(dunningCase.Id), proposed, now)
                        .Any(step => step.Action == EscalationAction.FinalAction))
                    atLadderPass.Close(invoice.AmountDue);
            }
        }
        var ladder = atLadderPass.Impact();
        return new PolicyImpactPreview(onSave.Impact(), ladder.CasesClosing, ladder.WrittenOff);
    }
}
