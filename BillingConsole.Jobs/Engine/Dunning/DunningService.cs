using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Notifications;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.Payments;
using System.Text.Json;
using BillingConsole.Persistence;
using BillingConsole.Persistence.Configurations;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Dunning;

/// <summary>
/// Opens, schedules and closes dunning cases as payments fail and succeed. Called by <see cref="PaymentProcessor"/> while it
/// still holds the invoice's charge lock, so no two outcomes of one invoice are handled at once; it shares the processor's
/// unit of work (the invoice passed in is tracked by it).
/// </summary>
public sealed class DunningService(BillingDbContext db, AuditTrail audit, RetryScheduler scheduler, RecoveryHistory history, BillingCalendar calendar,
    TimeProvider clock)
    : IPaymentEvents
{
    public async Task OnPaymentFailedAsync(PaymentAttempt attempt, Invoice invoice, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var declineCode = attempt.DeclineCode ?? DeclineCodes.GenericDecline;
        var dunningCase = await OpenCaseAsync(invoice.Id, ct);
        PolicySettingsWithVersion policy;
        if (dunningCase is null)
        {
            policy = await CurrentPolicyAsync(ct);
            dunningCase = new DunningCase(invoice.Id, invoice.CustomerId, invoice.SubscriptionId, invoice.AmountDue, policy.Version, declineCode, now);
            db.DunningCases.Add(dunningCase);
            audit.Record(Actor.System, "dunning.opened", "dunning_case", dunningCase.Id, $"Payment failed: {declineCode}.");
        }
        else
        {
            policy = await PolicyInForceAsync(dunningCase, ct);
            if (dunningCase.Status == DunningStatus.AwaitingPaymentMethod) return;
            if (policy.Settings.IsHardDecline(declineCode)) dunningCase.RecordHardDecline(declineCode, now);
            // A retry made by dunning reports back; a manual charge of a waiting case only changes the schedule.
            else if (dunningCase.Status == DunningStatus.Retrying) dunningCase.RecordSoftDecline(declineCode, now);
        }
        if (dunningCase.Status == DunningStatus.RetryPending) await ScheduleAsync(dunningCase, invoice, policy.Settings, declineCode, ct);
        await db.SaveChangesAsync(CancellationToken.None);
    }

    public async Task OnPaymentSucceededAsync(PaymentAttempt attempt, Invoice invoice, CancellationToken ct)
    {
        // The subscription's recovery is the processor's; here the case closes and lifts the plan-change block it set.
        for (var tries = 1; ; tries++)
        {
            var dunningCase = await OpenCaseAsync(invoice.Id, ct);
            if (dunningCase is null) return;
            dunningCase.Recover(clock.GetUtcNow());
            await AllowPlanChangesAfterAsync(dunningCase, ct);
            audit.Record(Actor.System, "dunning.recovered", "dunning_case", dunningCase.Id, $"Attempt {attempt.AttemptNumber} succeeded.");
            try
            {
                await db.SaveChangesAsync(CancellationToken.None);
                return;
            }
            catch (DbUpdateConcurrencyException) when (tries < 3)
            {
                // The retry runner claimed the case meanwhile: read it again and close it from its new state.
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>
    /// Sets the next retry of a case waiting for one, or ends it: a hard decline waits for a new card, a used-up budget or
    /// window takes the policy's final action. Changes are left in the unit of work for the caller to save.
    /// </summary>
    internal async Task ScheduleAsync(DunningCase dunningCase, Invoice invoice, DunningPolicySettings policy, string lastDeclineCode, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var attempts = await db.PaymentAttempts.AsNoTracking()
            .Where(a => a.InvoiceId == invoice.Id && a.Status != PaymentAttemptStatus.Pending)
            .OrderBy(a => a.AttemptNumber)
            .Select(a => new { a.Trigger, a.StartedAt, a.DeclineCode })
            .ToListAsync(ct);
        // The opening failure is the last decline recorded by the time the case opened.
        var firstDecline = attempts.LastOrDefault(a => a.StartedAt <= dunningCase.OpenedAt && a.DeclineCode is not null)?.DeclineCode ?? lastDeclineCode;
        var retries = attempts.Where(a => a.Trigger == PaymentTrigger.DunningRetry && a.StartedAt >= dunningCase.OpenedAt).Select(a => a.StartedAt).ToList();
        var context = new RetryContext(firstDecline, lastDeclineCode, dunningCase.OpenedAt, retries, dunningCase.Amount,
            await CustomerTimeZoneAsync(dunningCase.CustomerId, ct), now);
        switch (scheduler.Next(context, policy, await history.CurrentAsync(ct)))
        {
            case RetryDecision.Retry retry:
                dunningCase.Schedule(retry.At, retry.EstimatedProbability, retry.Reason);
                break;
            case RetryDecision.Stop { Kind: StopKind.HardDecline }:
                dunningCase.RecordHardDecline(lastDeclineCode, now);
                break;
            case RetryDecision.Stop stop:
                await TakeFinalActionAsync(dunningCase, invoice, policy.FinalAction, stop.Reason, ct);
                break;
        }
    }

    /// <summary>Where the customer lives, for retries at their local hours: their own time zone, else the billing time zone.</summary>
    private async Task<TimeZoneInfo> CustomerTimeZoneAsync(Guid customerId, CancellationToken ct)
    {
        var id = await db.Customers.Where(c => c.Id == customerId).Select(c => c.TimeZone).SingleAsync(ct);
        return id is null ? calendar.TimeZone : BillingEngineExtensions.TryFindTimeZone(id) ?? calendar.TimeZone;
    }

    private async Task TakeFinalActionAsync(DunningCase dunningCase, Invoice invoice, FinalAction action, string reason, CancellationToken ct)
    {
        dunningCase.Exhaust(action.ToSnakeCase(), clock.GetUtcNow());
        await ApplyFinalActionAsync(dunningCase, invoice, action, reason, ct);
    }

    /// <summary>
    /// What the policy's final action does to the invoice or the subscription of a case just exhausted, with its ledger
    /// postings and audit entry. Changes are left in the unit of work for the caller to save.
    /// </summary>
    internal async Task ApplyFinalActionAsync(DunningCase dunningCase, Invoice invoice, FinalAction action, string reason, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var subscription = invoice.SubscriptionId is { } id ? await db.Subscriptions.FirstOrDefaultAsync(s => s.Id == id, ct) : null;
        switch (action)
        {
            case FinalAction.MarkUncollectible:
                var writtenOff = invoice.MarkUncollectible(now);
                db.LedgerEntries.AddRange(LedgerPostings.WriteOff(invoice, writtenOff, now).SelectMany(t => t.Balanced()));
                break;
            case FinalAction.CancelSubscription when subscription is not null && subscription.Status != SubscriptionStatus.Canceled:
                subscription.Cancel(now, CancellationKind.Involuntary);
                Notify(dunningCase, NotificationKinds.SubscriptionCanceled, now);
                break;
            case FinalAction.MarkUnpaid when subscription is { Status: SubscriptionStatus.PastDue }:
                subscription.MarkUnpaid();
                Notify(dunningCase, NotificationKinds.SubscriptionUnpaid, now);
                break;
        }
        await AllowPlanChangesAfterAsync(dunningCase, ct);
        audit.Record(Actor.System, "dunning.final_action", "invoice", invoice.Id, $"{action.ToSnakeCase()}: {reason}");
    }

    /// <summary>The customer's email about what dunning did to the subscription, keyed by the case (its final action is taken once).</summary>
    private void Notify(DunningCase dunningCase, string kind, DateTimeOffset at) =>
        db.Notifications.Add(new Notification(dunningCase.CustomerId, kind, dunningCase.Id.ToString(), dunningCase.InvoiceId, dunningCase.Id, at));

    /// <summary>
    /// A case has closed (recovered, exhausted or closed by a person): plan changes it blocked are allowed again, unless
    /// another open case of the subscription has taken its own block step. Left in the unit of work for the caller to save.
    /// </summary>
    internal async Task AllowPlanChangesAfterAsync(DunningCase closed, CancellationToken ct)
    {
        if (closed.SubscriptionId is not { } subscriptionId) return;
        var subscription = await db.Subscriptions.FirstOrDefaultAsync(s => s.Id == subscriptionId, ct);
        if (subscription is not { PlanChangesBlocked: true }) return;
        var stillBlocked = await db.DunningCases.AnyAsync(c => c.SubscriptionId == subscriptionId && c.Id != closed.Id
            && (c.Status == DunningStatus.RetryPending || c.Status == DunningStatus.Retrying || c.Status == DunningStatus.AwaitingPaymentMethod)
            && c.Steps.Any(s => s.Action == EscalationAction.BlockPlanChanges), ct);
        if (!stillBlocked) subscription.AllowPlanChanges();
    }

    /// <summary>How long a claimed retry that found its invoice being charged by someone else waits before it is decided again.</summary>
    public static readonly TimeSpan BusyInvoiceDelay = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A claimed retry that made no charge: another charge held the invoice (back to waiting, due again shortly), or the
    /// invoice is no longer open (paid elsewhere: recovered; voided or written off: closed), or nothing could be charged
    /// (back to waiting, rescheduled). While another charge holds the invoice its outcome is not known yet, so the case is
    /// never ended then: a final action taken now could write off an invoice that charge is paying.
    /// </summary>
    public async Task ReleaseAsync(Guid caseId, bool invoiceBusy, CancellationToken ct)
    {
        for (var tries = 1; ; tries++)
        {
            var dunningCase = await db.DunningCases.FirstOrDefaultAsync(c => c.Id == caseId, ct);
            if (dunningCase is not { Status: DunningStatus.Retrying }) return;
            var invoice = await db.Invoices.FirstAsync(i => i.Id == dunningCase.InvoiceId, ct);
            var now = clock.GetUtcNow();
            if (invoice.Status != InvoiceStatus.Open)
            {
                if (invoice.Status == InvoiceStatus.Paid) dunningCase.Recover(now);
                else dunningCase.CloseBecauseInvoiceClosed(now);
                await AllowPlanChangesAfterAsync(dunningCase, ct);
            }
            else if (invoiceBusy)
            {
                var probability = dunningCase.NextAttemptProbability ?? 0;
                dunningCase.Reset(now);
                dunningCase.Schedule(now + BusyInvoiceDelay, probability,
                    "Another charge of this invoice was in progress; the case is decided again after it.");
            }
            else
            {
                dunningCase.Reset(now);
                var policy = await PolicyInForceAsync(dunningCase, ct);
                await ScheduleAsync(dunningCase, invoice, policy.Settings, dunningCase.LastDeclineCode ?? DeclineCodes.GenericDecline, ct);
            }
            try
            {
                await db.SaveChangesAsync(CancellationToken.None);
                return;
            }
            catch (DbUpdateConcurrencyException) when (tries < 3)
            {
                // The charge that held the invoice closed the case meanwhile (a success recovers it): read it again.
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>A claimed retry the circuit breaker held back: waiting again, due at <paramref name="until"/>, not counted.</summary>
    public async Task PostponeAsync(Guid caseId, DateTimeOffset until, CancellationToken ct)
    {
        var dunningCase = await db.DunningCases.FirstOrDefaultAsync(c => c.Id == caseId, ct);
        if (dunningCase is not { Status: DunningStatus.Retrying }) return;
        dunningCase.PostponeWhileChargingPaused(until, clock.GetUtcNow());
        await db.SaveChangesAsync(CancellationToken.None);
    }

    internal Task<DunningCase?> OpenCaseAsync(Guid invoiceId, CancellationToken ct) =>
        db.DunningCases.FirstOrDefaultAsync(c => c.InvoiceId == invoiceId
            && (c.Status == DunningStatus.RetryPending || c.Status == DunningStatus.Retrying || c.Status == DunningStatus.AwaitingPaymentMethod), ct);

    /// <summary>
    /// The newest policy version, which the case follows from now on: a policy an admin saves applies to every open case's
    /// next decision, not only to cases opened after it.
    /// </summary>
    internal async Task<PolicySettingsWithVersion> PolicyInForceAsync(DunningCase dunningCase, CancellationToken ct)
    {
        var policy = await CurrentPolicyAsync(ct);
        if (policy.Version > dunningCase.PolicyVersion) dunningCase.FollowPolicy(policy.Version);
        return policy;
    }

    /// <summary>
    /// Moves the waiting cases onto the newest policy version and schedules their next retry by it, in batches locked with
    /// SKIP LOCKED: a case the retry runner holds is left to it (and follows the new version at its next decision).
    /// Returns how many cases were rescheduled.
    /// </summary>
    public async Task<int> RescheduleWaitingCasesAsync(CancellationToken ct)
    {
        const int batch = 200;
        var policy = await CurrentPolicyAsync(ct);
        var rescheduled = 0;
        while (true)
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var cases = await db.DunningCases.FromSqlInterpolated($"""
                select c.*, c.xmin from dunning_cases c
                where c.status = 'retry_pending' and c.policy_version < {policy.Version}
                order by c.id
                limit {batch}
                for update of c skip locked
                """).ToListAsync(ct);
            var invoiceIds = cases.Select(c => c.InvoiceId).ToList();
            var invoices = await db.Invoices.Where(i => invoiceIds.Contains(i.Id)).ToDictionaryAsync(i => i.Id, ct);
            foreach (var dunningCase in cases)
            {
                dunningCase.FollowPolicy(policy.Version);
                await ScheduleAsync(dunningCase, invoices[dunningCase.InvoiceId], policy.Settings,
                    dunningCase.LastDeclineCode ?? DeclineCodes.GenericDecline, ct);
            }
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            rescheduled += cases.Count;
            if (cases.Count < batch) return rescheduled;
        }
    }

    /// <summary>The newest policy version; a new install gets the default saved as version 1 so cases can refer to it.</summary>
    internal async Task<PolicySettingsWithVersion> CurrentPolicyAsync(CancellationToken ct)
    {
        var newest = await db.DunningPolicies.AsNoTracking().OrderByDescending(p => p.Version).FirstOrDefaultAsync(ct);
        if (newest is not null) return new(newest.Version, newest.Settings);
        // Another node may insert version 1 at the same moment; whichever wins, it holds the same default.
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"insert into dunning_policies (version, settings, created_by, reason, created_at) values (1, {JsonSerializer.Serialize(DunningPolicySettings.Default, DunningPolicyConfiguration.Json)}::jsonb, {Actor.System.Name}, {"Default policy"}, {clock.GetUtcNow()}) on conflict do nothing",
            ct);
        return new(1, DunningPolicySettings.Default);
    }
}

internal sealed record PolicySettingsWithVersion(int Version, DunningPolicySettings Settings);
