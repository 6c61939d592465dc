using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Notifications;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Dunning;

/// <summary>
/// The ladder pass: takes the escalation steps that have come due for every open case, cases waiting for a new card
/// included. Notify records the template it calls for and writes that email to the outbox; block plan changes blocks the
/// subscription's plan changes until the case closes; the final action ends the case on its day whatever retries remain.
/// Cases are claimed in batches with FOR UPDATE SKIP LOCKED, one transaction a batch, so two nodes running the pass at once
/// share the cases instead of taking a step twice; the unique (case, day) key of the steps backs that up. A case whose
/// retry is running, or whose customer's dunning is paused, is left for a later pass.
/// </summary>
public sealed class DunningLadder(BillingDbContext db, DunningService dunning, InvoiceChargeLock chargeLock, AuditTrail audit, TimeProvider clock)
{
    public const int BatchSize = 200;

    /// <summary>Returns how many steps were taken.</summary>
    public async Task<int> RunDueAsync(CancellationToken ct)
    {
        var handled = new List<Guid>();
        var taken = 0;
        while (!ct.IsCancellationRequested)
        {
            db.ChangeTracker.Clear();
            var policies = await dunning.PoliciesInForceAsync(ct);
            var now = clock.GetUtcNow();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var cases = await ClaimDueAsync(policies, now, handled, ct);
            var caseIds = cases.Select(c => c.Id).ToList();
            // Loaded into the tracked cases, which need them to know how far they have climbed.
            await db.Set<DunningStepTaken>().Where(s => caseIds.Contains(s.CaseId)).LoadAsync(ct);
            var invoiceIds = cases.Select(c => c.InvoiceId).ToList();
            var invoices = await db.Invoices.Where(i => invoiceIds.Contains(i.Id)).ToDictionaryAsync(i => i.Id, ct);
            var caseKeys = caseIds.Select(id => id.ToString()).ToList();
            var noticed = (await db.Notifications.Where(n => n.Kind == NotificationKinds.FinalNotice && caseKeys.Contains(n.EventKey))
                .Select(n => n.EventKey).ToListAsync(ct)).ToHashSet();
            foreach (var dunningCase in cases)
            {
                var (version, settings) = policies.For(dunningCase.PolicyVersion);
                if (dunningCase.PolicyVersion < version) dunningCase.FollowPolicy(version);
                var invoice = invoices[dunningCase.InvoiceId];
                taken += await TakeDueStepsAsync(dunningCase, invoice, settings, now, ct);
                if (!noticed.Contains(dunningCase.Id.ToString())) SendFinalNoticeIfDue(dunningCase, invoice, settings, now);
            }
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            handled.AddRange(caseIds);
            if (cases.Count < BatchSize) break;
        }
        return taken;
    }

    /// <summary>
    /// Open cases, not retrying now, whose next step or final notice under the ladder of some version in force has come,
    /// locked for this transaction (a case whose own version has nothing due is then left as it is).
    /// </summary>
    private Task<List<DunningCase>> ClaimDueAsync(PoliciesInForce policies, DateTimeOffset now, List<Guid> handled, CancellationToken ct)
    {
        var days = policies.All.SelectMany(p => p.Ladder).Select(s => s.Day).Distinct().ToArray();
        var noticeDays = policies.All.Select(p => p.FinalNoticeDay).OfType<int>().Distinct().ToArray();
        var openedBy = now.AddDays(-days.Concat(noticeDays).Min());
        var skip = handled.ToArray();
        return db.DunningCases.FromSqlInterpolated($"""
            select c.*, c.xmin from dunning_cases c
            where c.status in ('retry_pending', 'awaiting_payment_method') and c.opened_at <= {openedBy} and c.id <> all({skip})
              and exists (select 1 from customers u where u.id = c.customer_id and not u.dunning_paused
                          and (u.test_clock_id = {EngineClock.TestClockId} or ({EngineClock.TestClockId}::uuid is null and u.test_clock_id is null)))
              and (exists (select 1 from unnest({days}) d
                           where d > coalesce((select max(s.day) from dunning_case_steps s where s.case_id = c.id), 0)
                             and c.opened_at + make_interval(hours => d * 24) <= {now})
                   or (exists (select 1 from unnest({noticeDays}) d where c.opened_at + make_interval(hours => d * 24) <= {now})
                       and not exists (select 1 from notifications n where n.kind = {NotificationKinds.FinalNotice} and n.event_key = c.id::text)))
            order by c.opened_at
            limit {BatchSize}
            for update of c skip locked
            """).ToListAsync(ct);
    }

    private async Task<int> TakeDueStepsAsync(DunningCase dunningCase, Invoice invoice, DunningPolicySettings policy, DateTimeOffset now,
        CancellationToken ct)
    {
        // Paid or closed elsewhere a moment ago: the payment or the person closing it closes the case, not the ladder.
        if (invoice.Status != InvoiceStatus.Open) return 0;
        var taken = 0;
        foreach (var step in EscalationLadder.Due(dunningCase.OpenedAt, dunningCase.LastStepDay, policy, now))
        {
            switch (step.Action)
            {
                case EscalationAction.Notify:
                    var template = EscalationLadder.TemplateFor(step)!;
                    dunningCase.TakeStep(step, template, now);
                    // The step's own email, keyed by the case: its kind names the day, so each notify step writes one.
                    db.Notifications.Add(new Notification(dunningCase.CustomerId, template, dunningCase.Id.ToString(), dunningCase.InvoiceId,
                        dunningCase.Id, now));
                    Audit(dunningCase, step, $"notify with template {template}");
                    break;
                case EscalationAction.BlockPlanChanges:
                    dunningCase.TakeStep(step, null, now);
                    if (dunningCase.SubscriptionId is { } subscriptionId)
                        (await db.Subscriptions.SingleAsync(s => s.Id == subscriptionId, ct)).BlockPlanChanges();
                    Audit(dunningCase, step, "block plan changes");
                    break;
                case EscalationAction.FinalAction:
                    // A charge of the invoice is in flight or its outcome unknown: it may have paid; a later pass decides.
                    if (!await NoChargeInDoubtAsync(invoice.Id, ct)) return taken;
                    var action = policy.FinalAction;
                    dunningCase.TakeFinalAction(step, action.ToSnakeCase(), now);
                    Audit(dunningCase, step, $"final action {action.ToSnakeCase()}");
                    await dunning.ApplyFinalActionAsync(dunningCase, invoice, action, $"day {step.Day} of the escalation ladder.", ct);
                    break;
            }
            taken++;
        }
        return taken;
    }

    /// <summary>The final notice, once per case (keyed by it), on its day while the case is still open and its invoice unpaid.</summary>
    private void SendFinalNoticeIfDue(DunningCase dunningCase, Invoice invoice, DunningPolicySettings policy, DateTimeOffset now)
    {
        if (!dunningCase.IsOpen || invoice.Status != InvoiceStatus.Open || !EscalationLadder.FinalNoticeDue(dunningCase.OpenedAt, policy, now)) return;
        db.Notifications.Add(new Notification(dunningCase.CustomerId, NotificationKinds.FinalNotice, dunningCase.Id.ToString(), dunningCase.InvoiceId,
            dunningCase.Id, now));
        audit.Record(Actor.System, "dunning.final_notice", "dunning_case", dunningCase.Id,
            $"Final notice sent {policy.FinalNoticeDaysBefore} days before the final action on day {policy.FinalActionDay} (policy version {dunningCase.PolicyVersion}).");
    }

    private void Audit(DunningCase dunningCase, EscalationStep step, string what) =>
        audit.Record(Actor.System, "dunning.step_taken", "dunning_case", dunningCase.Id,
            $"Day {step.Day} of the escalation ladder (policy version {dunningCase.PolicyVersion}): {what}.");

    /// <summary>Holds the invoice's charge lock until this transaction ends, and finds no attempt still pending or unknown.</summary>
    private async Task<bool> NoChargeInDoubtAsync(Guid invoiceId, CancellationToken ct) =>
        await chargeLock.TryLockForTransactionAsync(invoiceId, ct)
        && !await db.PaymentAttempts.AnyAsync(a => a.InvoiceId == invoiceId
            && (a.Status == PaymentAttemptStatus.Pending || a.Status == PaymentAttemptStatus.Unknown), ct);
}
