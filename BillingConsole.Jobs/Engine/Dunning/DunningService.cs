using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Notifications;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.Payments;
using System.Linq.Expressions;
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
public sealed class DunningService(BillingDbContext db, SetBasedSave save, AuditTrail audit, RetryScheduler scheduler, RecoveryHistory history,
    BillingCalendar calendar, TimeProvider clock)
    : IPaymentEvents
{
    /// <summary>
    /// Opens a case for each failed invoice that has none, or moves its open case on, and schedules the next retry of
    /// each case waiting for one: the policy, the cases, the attempts and the customers' time zones are read once for all
    /// of them, and everything is saved in one unit of work.
    /// </summary>
    public async Task OnPaymentsFailedAsync(IReadOnlyList<(PaymentAttempt Attempt, Invoice Invoice)> failed, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var openCases = await OpenCasesAsync([.. failed.Select(f => f.Invoice.Id)], ct);
        var policies = await PoliciesInForceAsync(ct);
        var toSchedule = new List<CaseToSchedule>();
        foreach (var (attempt, invoice) in failed)
        {
            var declineCode = attempt.DeclineCode ?? DeclineCodes.GenericDecline;
            DunningPolicySettings policy;
            if (openCases.GetValueOrDefault(invoice.Id) is not { } dunningCase)
            {
                dunningCase = new DunningCase(invoice.Id, invoice.CustomerId, invoice.SubscriptionId, invoice.AmountDue, policies.Newest, declineCode, now);
                db.DunningCases.Add(dunningCase);
                audit.Record(Actor.System, "dunning.opened", "dunning_case", dunningCase.Id, $"Payment failed: {declineCode}.");
                policy = policies.For(policies.Newest).Settings;
            }
            else
            {
                policy = FollowPolicy(dunningCase, policies);
                if (dunningCase.Status != DunningStatus.AwaitingPaymentMethod && policy.IsHardDecline(declineCode))
                    dunningCase.RecordHardDecline(declineCode, now);
                // A retry made by dunning reports back; any other charge of a waiting case changes its decline code and schedule only.
                else if (dunningCase.Status == DunningStatus.Retrying) dunningCase.RecordSoftDecline(declineCode, now);
                else dunningCase.RecordDeclineOutsideRetry(declineCode, now);
            }
            if (dunningCase.Status == DunningStatus.RetryPending) toSchedule.Add(new(dunningCase, invoice, policy, declineCode, FailureTold: true));
        }
        await ScheduleAsync(toSchedule, ct);
        await save.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>
    /// Closes the open case of each paid invoice and lifts the plan-change blocks they set; one look-up finds them, since most
    /// paid invoices never had one, and one save closes them all.
    /// </summary>
    public async Task OnPaymentsSucceededAsync(IReadOnlyList<(PaymentAttempt Attempt, Invoice Invoice)> succeeded, CancellationToken ct)
    {
        var invoiceIds = succeeded.Select(s => s.Invoice.Id).ToArray();
        var attemptNumbers = new Dictionary<Guid, int>();
        foreach (var (attempt, invoice) in succeeded) attemptNumbers[invoice.Id] = attempt.AttemptNumber;
        // The subscriptions' recovery is the processor's; here the cases close and lift the plan-change blocks they set.
        for (var tries = 1; ; tries++)
        {
            var openCases = await OpenCasesAsync(invoiceIds, ct);
            if (openCases.Count == 0) return;
            var now = clock.GetUtcNow();
            foreach (var dunningCase in openCases.Values)
            {
                dunningCase.Recover(now);
                audit.Record(Actor.System, "dunning.recovered", "dunning_case", dunningCase.Id, $"Attempt {attemptNumbers[dunningCase.InvoiceId]} succeeded.");
            }
            await AllowPlanChangesAfterAsync([.. openCases.Values], ct);
            try
            {
                await save.SaveChangesAsync(CancellationToken.None);
                return;
            }
            catch (DbUpdateConcurrencyException) when (tries < 3)
            {
                // The retry runner claimed a case meanwhile: read them again and close them from their new state.
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>
    /// A written-off invoice reopened by a person goes back into dunning: a new case under the newest policy, opened now (its
    /// retries and ladder count from the reopening), scheduled at once. Left in the unit of work for the caller to save.
    /// </summary>
    internal async Task OpenForReopenedInvoiceAsync(Invoice invoice, CancellationToken ct)
    {
        var declineCode = await db.PaymentAttempts.Where(a => a.InvoiceId == invoice.Id && a.DeclineCode != null)
            .OrderByDescending(a => a.AttemptNumber).Select(a => a.DeclineCode).FirstOrDefaultAsync(ct) ?? DeclineCodes.GenericDecline;
        var policy = await CurrentPolicyAsync(ct);
        var dunningCase = new DunningCase(invoice.Id, invoice.CustomerId, invoice.SubscriptionId, invoice.AmountDue, policy.Version, declineCode,
            clock.GetUtcNow());
        db.DunningCases.Add(dunningCase);
        audit.Record(Actor.System, "dunning.opened", "dunning_case", dunningCase.Id, "The written-off invoice was reopened.");
        await ScheduleAsync(dunningCase, invoice, policy.Settings, declineCode, ct);
    }

    /// <inheritdoc cref="ScheduleAsync(IReadOnlyList{CaseToSchedule}, CancellationToken)"/>
    internal Task ScheduleAsync(DunningCase dunningCase, Invoice invoice, DunningPolicySettings policy, string lastDeclineCode, CancellationToken ct) =>
        ScheduleAsync([new CaseToSchedule(dunningCase, invoice, policy, lastDeclineCode)], ct);

    /// <summary>
    /// Sets the next retry of each case waiting for one, or ends it: a hard decline waits for a new card, a used-up budget or
    /// window takes the policy's final action. A policy that says so tells the customer of each retry scheduled, unless the
    /// failure's own email already named it. Changes are left in the unit of work for the caller to save.
    /// </summary>
    internal async Task ScheduleAsync(IReadOnlyList<CaseToSchedule> cases, CancellationToken ct)
    {
        var decisions = await DecideAsync([.. cases.Select(c => (c.Case, c.Policy, c.LastDeclineCode))], ct);
        var now = clock.GetUtcNow();
        var retryNotices = new List<Notification>();
        foreach (var ((dunningCase, invoice, policy, lastDeclineCode, failureTold), decision) in cases.Zip(decisions))
        {
            switch (decision)
            {
                case RetryDecision.Retry retry:
                    dunningCase.Schedule(retry.At, retry.EstimatedProbability, retry.Reason);
                    // Keyed by the retry's number: a retry moved later (a policy saved for open cases) is not announced again.
                    if (policy.NotifyRetryScheduled && !failureTold)
                        retryNotices.Add(new Notification(dunningCase.CustomerId, NotificationKinds.RetryScheduled,
                            $"{dunningCase.Id}:{dunningCase.RetriesMade + 1}", dunningCase.InvoiceId, dunningCase.Id, now));
                    break;
                // Either way the case waits, never retried off-session, until the customer acts or the ladder's final action comes.
                case RetryDecision.Stop { Kind: StopKind.HardDecline or StopKind.AuthenticationRequired }:
                    dunningCase.RecordHardDecline(lastDeclineCode, now);
                    break;
                case RetryDecision.Stop stop:
                    await TakeFinalActionAsync(dunningCase, invoice, policy.FinalAction, stop.Reason, ct);
                    break;
            }
        }
        await AddRetryNoticesAsync(retryNotices, ct);
    }

    /// <summary>Adds the retry notices not written yet (a case rescheduled before its retry ran), found with one query for all of them.</summary>
    private async Task AddRetryNoticesAsync(List<Notification> notices, CancellationToken ct)
    {
        if (notices.Count == 0) return;
        var keys = notices.Select(n => n.EventKey).ToList();
        var written = await db.Notifications.Where(n => n.Kind == NotificationKinds.RetryScheduled && keys.Contains(n.EventKey))
            .Select(n => n.EventKey).ToListAsync(ct);
        db.Notifications.AddRange(notices.Where(n => !written.Contains(n.EventKey)));
    }

    /// <summary>What <see cref="ScheduleAsync(DunningCase, Invoice, DunningPolicySettings, string, CancellationToken)"/> would do with a waiting case under <paramref name="policy"/> now; changes nothing.</summary>
    internal async Task<RetryDecision> DecideAsync(DunningCase dunningCase, DunningPolicySettings policy, string lastDeclineCode, CancellationToken ct) =>
        (await DecideAsync([(dunningCase, policy, lastDeclineCode)], ct))[0];

    /// <summary>
    /// What each waiting case's next step would be now, in order; changes nothing. The cases' attempts and customers' time
    /// zones are read in one statement each.
    /// </summary>
    private async Task<IReadOnlyList<RetryDecision>> DecideAsync(IReadOnlyList<(DunningCase Case, DunningPolicySettings Policy, string LastDeclineCode)> cases,
        CancellationToken ct)
    {
        if (cases.Count == 0) return [];
        var now = clock.GetUtcNow();
        var invoiceIds = cases.Select(c => c.Case.InvoiceId).ToArray();
        var attemptsByInvoice = (await db.PaymentAttempts.AsNoTracking()
                .Where(a => invoiceIds.Contains(a.InvoiceId) && a.Status != PaymentAttemptStatus.Pending)
                .OrderBy(a => a.AttemptNumber)
                .Select(a => new { a.InvoiceId, a.Trigger, a.StartedAt, a.DeclineCode })
                .ToListAsync(ct))
            .ToLookup(a => a.InvoiceId);
        var timeZones = await CustomerTimeZonesAsync([.. cases.Select(c => c.Case.CustomerId).Distinct()], ct);
        var statistics = await history.CurrentAsync(ct);
        return [.. cases.Select(c =>
        {
            var (dunningCase, policy, lastDeclineCode) = c;
            var attempts = attemptsByInvoice[dunningCase.InvoiceId].ToList();
            // The opening failure is the last decline recorded by the time the case opened.
            var firstDecline = attempts.LastOrDefault(a => a.StartedAt <= dunningCase.OpenedAt && a.DeclineCode is not null)?.DeclineCode ?? lastDeclineCode;
            var retries = attempts.Where(a => a.Trigger == PaymentTrigger.DunningRetry && a.StartedAt >= dunningCase.OpenedAt).Select(a => a.StartedAt).ToList();
            var context = new RetryContext(firstDecline, lastDeclineCode, dunningCase.OpenedAt, retries, dunningCase.Amount,
                timeZones[dunningCase.CustomerId], now);
            return scheduler.Next(context, policy, statistics);
        })];
    }

    /// <summary>Where each customer lives, for retries at their local hours: their own time zone, else the billing time zone.</summary>
    private async Task<Dictionary<Guid, TimeZoneInfo>> CustomerTimeZonesAsync(Guid[] customerIds, CancellationToken ct)
    {
        var ids = await db.Customers.Where(c => customerIds.Contains(c.Id)).Select(c => new { c.Id, c.TimeZone }).ToListAsync(ct);
        return ids.ToDictionary(c => c.Id, c => c.TimeZone is null ? calendar.TimeZone : BillingEngineExtensions.TryFindTimeZone(c.TimeZone) ?? calendar.TimeZone);
    }

    private async Task TakeFinalActionAsync(DunningCase dunningCase, Invoice invoice, FinalAction action, string reason, CancellationToken ct)
    {
        dunningCase.Exhaust(action.ToSnakeCase(), clock.GetUtcNow());
        // The invoice as this unit of work tracks it, so that the final action is saved with the case: a batch charge hands
        // over invoices it read without tracking.
        var tracked = await db.Invoices.FindAsync([invoice.Id], ct);
        await ApplyFinalActionAsync(dunningCase, tracked!, action, reason, ct);
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
    internal Task AllowPlanChangesAfterAsync(DunningCase closed, CancellationToken ct) => AllowPlanChangesAfterAsync([closed], ct);

    /// <inheritdoc cref="AllowPlanChangesAfterAsync(DunningCase, CancellationToken)"/>
    /// <remarks>For many closed cases at once: the blocked subscriptions and the other open cases that still block them are read once each.</remarks>
    private async Task AllowPlanChangesAfterAsync(IReadOnlyList<DunningCase> closed, CancellationToken ct)
    {
        var subscriptionIds = closed.Where(c => c.SubscriptionId is not null).Select(c => c.SubscriptionId!.Value).ToHashSet();
        if (subscriptionIds.Count == 0) return;
        // Only the rows saved as blocked are read (most closed cases never blocked anything); they join what this unit of work
        // already tracks, where a subscription is judged as changed here, so one it blocked but has not saved yet counts too.
        await db.Subscriptions.Where(s => subscriptionIds.Contains(s.Id) && s.PlanChangesBlocked).LoadAsync(ct);
        var blocked = db.Subscriptions.Local.Where(s => subscriptionIds.Contains(s.Id) && s.PlanChangesBlocked).ToList();
        if (blocked.Count == 0) return;
        var blockedIds = blocked.Select(s => s.Id).ToArray();
        var closedIds = closed.Select(c => c.Id).ToArray();
        var stillBlocked = await db.DunningCases.Where(c => c.SubscriptionId != null && blockedIds.Contains(c.SubscriptionId.Value) && !closedIds.Contains(c.Id)
                && (c.Status == DunningStatus.RetryPending || c.Status == DunningStatus.Retrying || c.Status == DunningStatus.AwaitingPaymentMethod)
                && c.Steps.Any(s => s.Action == EscalationAction.BlockPlanChanges))
            .Select(c => c.SubscriptionId!.Value).Distinct().ToListAsync(ct);
        foreach (var subscription in blocked.Where(s => !stillBlocked.Contains(s.Id))) subscription.AllowPlanChanges();
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
                await save.SaveChangesAsync(CancellationToken.None);
                return;
            }
            catch (DbUpdateConcurrencyException) when (tries < 3)
            {
                // The charge that held the invoice closed the case meanwhile (a success recovers it): read it again.
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>
    /// Claimed retries the circuit breaker held back (a whole round, when it opens): waiting again, each due at its time, not
    /// counted; one read and one save for all of them.
    /// </summary>
    public async Task PostponeAsync(IReadOnlyList<(Guid CaseId, DateTimeOffset Until)> postponed, CancellationToken ct)
    {
        var caseIds = postponed.Select(p => p.CaseId).ToArray();
        var retrying = await db.DunningCases.Where(c => caseIds.Contains(c.Id) && c.Status == DunningStatus.Retrying).ToDictionaryAsync(c => c.Id, ct);
        var now = clock.GetUtcNow();
        foreach (var (caseId, until) in postponed)
            if (retrying.TryGetValue(caseId, out var dunningCase)) dunningCase.PostponeWhileChargingPaused(until, now);
        await save.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>Closes the invoice's open case, if it has one: the invoice was voided, written off or credited in full.</summary>
    internal async Task CloseForClosedInvoiceAsync(Guid invoiceId, DateTimeOffset at, CancellationToken ct)
    {
        if (await OpenCaseAsync(invoiceId, ct) is not { } dunningCase) return;
        dunningCase.CloseBecauseInvoiceClosed(at);
        await AllowPlanChangesAfterAsync(dunningCase, ct);
    }

    internal Task<DunningCase?> OpenCaseAsync(Guid invoiceId, CancellationToken ct) =>
        db.DunningCases.Where(IsOpen).FirstOrDefaultAsync(c => c.InvoiceId == invoiceId, ct);

    /// <summary>The open case of each of these invoices that has one (an invoice has at most one open case).</summary>
    private Task<Dictionary<Guid, DunningCase>> OpenCasesAsync(Guid[] invoiceIds, CancellationToken ct) =>
        db.DunningCases.Where(IsOpen).Where(c => invoiceIds.Contains(c.InvoiceId)).ToDictionaryAsync(c => c.InvoiceId, ct);

    private static readonly Expression<Func<DunningCase, bool>> IsOpen = c =>
        c.Status == DunningStatus.RetryPending || c.Status == DunningStatus.Retrying || c.Status == DunningStatus.AwaitingPaymentMethod;

    /// <summary>
    /// The policy version the case follows from now on: the newest version saved for open cases, or the version the case
    /// was opened under when that is newer (a version saved for new cases only leaves open cases where they are).
    /// </summary>
    internal async Task<PolicySettingsWithVersion> PolicyInForceAsync(DunningCase dunningCase, CancellationToken ct)
    {
        var (version, settings) = (await PoliciesInForceAsync(ct)).For(dunningCase.PolicyVersion);
        if (version > dunningCase.PolicyVersion) dunningCase.FollowPolicy(version);
        return new(version, settings);
    }

    /// <summary>Every version an open case can follow (a policy changes a few times a year, so they are few).</summary>
    internal async Task<PoliciesInForce> PoliciesInForceAsync(CancellationToken ct)
    {
        var versions = await db.DunningPolicies.AsNoTracking().ToListAsync(ct);
        if (versions.Count > 0) return new PoliciesInForce(versions);
        // A new install: the default is saved as version 1 first.
        await CurrentPolicyAsync(ct);
        return new PoliciesInForce(await db.DunningPolicies.AsNoTracking().ToListAsync(ct));
    }

    /// <summary>Moves the case onto the version it follows now (see <see cref="PolicyInForceAsync"/>) and returns its settings.</summary>
    private static DunningPolicySettings FollowPolicy(DunningCase dunningCase, PoliciesInForce policies)
    {
        var (version, settings) = policies.For(dunningCase.PolicyVersion);
        if (version > dunningCase.PolicyVersion) dunningCase.FollowPolicy(version);
        return settings;
    }

    /// <summary>
    /// Moves the waiting cases onto policy <paramref name="version"/>, just saved for open cases, and schedules their next
    /// retry by it, in batches locked with SKIP LOCKED: a case the retry runner holds is left to it (and follows the new
    /// version at its next decision). Returns what it did, tallied as <see cref="DunningPolicyImpactPreview"/> foretells it.
    /// </summary>
    public async Task<PolicyImpact> RescheduleWaitingCasesAsync(int version, CancellationToken ct)
    {
        const int batch = 200;
        var settings = (await db.DunningPolicies.AsNoTracking().SingleAsync(p => p.Version == version, ct)).Settings;
        var tally = new PolicyImpactTally(settings.FinalAction);
        while (true)
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var cases = await db.DunningCases.FromSqlInterpolated($"""
                select c.*, c.xmin from dunning_cases c
                where c.status = 'retry_pending' and c.policy_version < {version}
                order by c.id
                limit {batch}
                for update of c skip locked
                """).ToListAsync(ct);
            var invoiceIds = cases.Select(c => c.InvoiceId).ToList();
            var invoices = await db.Invoices.Where(i => invoiceIds.Contains(i.Id)).ToDictionaryAsync(i => i.Id, ct);
            var before = cases.ToDictionary(c => c.Id, c => (ScheduledAt: c.NextAttemptAt, Due: invoices[c.InvoiceId].AmountDue));
            foreach (var dunningCase in cases) dunningCase.FollowPolicy(version);
            await ScheduleAsync([.. cases.Select(c => new CaseToSchedule(c, invoices[c.InvoiceId], settings, c.LastDeclineCode ?? DeclineCodes.GenericDecline))], ct);
            foreach (var dunningCase in cases)
                tally.Add(before[dunningCase.Id].ScheduledAt, dunningCase.Status, dunningCase.NextAttemptAt, before[dunningCase.Id].Due);
            await save.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            if (cases.Count < batch) return tally.Impact();
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

/// <summary>A case waiting for its next retry, with the invoice it dunns and the policy settings it follows.</summary>
/// <param name="FailureTold">The retry follows a failure whose own email (payment_failed) already names it, so it is not announced again.</param>
internal sealed record CaseToSchedule(DunningCase Case, Invoice Invoice, DunningPolicySettings Policy, string LastDeclineCode, bool FailureTold = false);
