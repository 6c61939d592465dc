using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Dunning;

public enum DunningStatus { RetryPending, Retrying, AwaitingPaymentMethod, Recovered, Exhausted, Closed }

public enum DunningEvent { RetryStarted, SoftDecline, HardDecline, PaymentSucceeded, BudgetExhausted, PaymentMethodAttached, Reset, InvoiceClosed, ChargingPaused, FinalActionDayReached }

/// <summary>
/// One overdue invoice being collected. Opened by a payment_failed event; ends recovered, exhausted (the policy's final
/// action taken, when the retries ran out or on the final action's day) or closed (the invoice was voided or written off by
/// a person). On the way it climbs the escalation ladder, one recorded step at a time.
/// </summary>
public sealed class DunningCase : Entity
{
    public static readonly StateMachine<DunningStatus, DunningEvent> Lifecycle = new(
        (DunningStatus.RetryPending, DunningEvent.RetryStarted, DunningStatus.Retrying),
        (DunningStatus.RetryPending, DunningEvent.PaymentSucceeded, DunningStatus.Recovered),
        (DunningStatus.RetryPending, DunningEvent.BudgetExhausted, DunningStatus.Exhausted),
        (DunningStatus.RetryPending, DunningEvent.HardDecline, DunningStatus.AwaitingPaymentMethod),
        (DunningStatus.RetryPending, DunningEvent.PaymentMethodAttached, DunningStatus.RetryPending),
        (DunningStatus.RetryPending, DunningEvent.Reset, DunningStatus.RetryPending),
        (DunningStatus.RetryPending, DunningEvent.InvoiceClosed, DunningStatus.Closed),
        (DunningStatus.Retrying, DunningEvent.SoftDecline, DunningStatus.RetryPending),
        (DunningStatus.Retrying, DunningEvent.HardDecline, DunningStatus.AwaitingPaymentMethod),
        (DunningStatus.Retrying, DunningEvent.PaymentSucceeded, DunningStatus.Recovered),
        (DunningStatus.Retrying, DunningEvent.BudgetExhausted, DunningStatus.Exhausted),
        (DunningStatus.Retrying, DunningEvent.Reset, DunningStatus.RetryPending),
        (DunningStatus.Retrying, DunningEvent.InvoiceClosed, DunningStatus.Closed),
        (DunningStatus.Retrying, DunningEvent.ChargingPaused, DunningStatus.RetryPending),
        (DunningStatus.AwaitingPaymentMethod, DunningEvent.PaymentMethodAttached, DunningStatus.RetryPending),
        (DunningStatus.AwaitingPaymentMethod, DunningEvent.PaymentSucceeded, DunningStatus.Recovered),
        (DunningStatus.AwaitingPaymentMethod, DunningEvent.BudgetExhausted, DunningStatus.Exhausted),
        (DunningStatus.AwaitingPaymentMethod, DunningEvent.Reset, DunningStatus.RetryPending),
        (DunningStatus.AwaitingPaymentMethod, DunningEvent.InvoiceClosed, DunningStatus.Closed),
        // The final action's day ends a case whatever retries remain, a case waiting for a card too, but never a retry in flight.
        (DunningStatus.RetryPending, DunningEvent.FinalActionDayReached, DunningStatus.Exhausted),
        (DunningStatus.AwaitingPaymentMethod, DunningEvent.FinalActionDayReached, DunningStatus.Exhausted),
        (DunningStatus.Exhausted, DunningEvent.PaymentSucceeded, DunningStatus.Recovered));

    private readonly List<DunningStepTaken> _steps = [];
    private decimal _amount;

    private DunningCase() { }

    public DunningCase(Guid invoiceId, Guid customerId, Guid? subscriptionId, Money amount, int policyVersion,
        string firstDeclineCode, DateTimeOffset openedAt)
    {
        InvoiceId = invoiceId;
        CustomerId = customerId;
        SubscriptionId = subscriptionId;
        _amount = amount.Amount;
        Currency = amount.Currency;
        PolicyVersion = policyVersion;
        LastDeclineCode = firstDeclineCode;
        OpenedAt = openedAt;
        UpdatedAt = openedAt;
        Status = DunningStatus.RetryPending;
    }

    public Guid InvoiceId { get; private set; }
    public Guid CustomerId { get; private set; }
    public Guid? SubscriptionId { get; private set; }
    public string Currency { get; private set; } = "USD";
    public Money Amount => new(_amount, Currency);
    public DunningStatus Status { get; private set; }
    public int PolicyVersion { get; private set; }
    public DateTimeOffset OpenedAt { get; private set; }
    public DateTimeOffset UpdatedAt { get; private set; }
    public DateTimeOffset? ClosedAt { get; private set; }
    /// <summary>Retries made by dunning (the failed payment that opened the case is not one).</summary>
    public int RetriesMade { get; private set; }
    public string? LastDeclineCode { get; private set; }
    public DateTimeOffset? NextAttemptAt { get; private set; }
    public double? NextAttemptProbability { get; private set; }
    public string? NextAttemptReason { get; private set; }
    /// <summary>How many escalation steps the case has taken (0 = none yet).</summary>
    public int EscalationStep { get; private set; }
    /// <summary>The escalation steps taken, in the order taken. Load them with the case before taking another.</summary>
    public IReadOnlyList<DunningStepTaken> Steps => _steps.AsReadOnly();
    /// <summary>The ladder day of the last step taken (0 = none): later steps are the ones still to come.</summary>
    public int LastStepDay => _steps.Count == 0 ? 0 : _steps.Max(s => s.Day);
    public string? FinalAction { get; private set; }

    public bool IsOpen => Status is DunningStatus.RetryPending or DunningStatus.Retrying or DunningStatus.AwaitingPaymentMethod;

    private void Fire(DunningEvent on, DateTimeOffset at)
    {
        Status = Lifecycle.Fire(Status, on);
        UpdatedAt = at;
    }

    public void Schedule(DateTimeOffset nextAttemptAt, double probability, string reason)
    {
        if (Status != DunningStatus.RetryPending) throw new DomainRuleException("Only a case waiting for a retry can be scheduled.");
        NextAttemptAt = nextAttemptAt;
        NextAttemptProbability = probability;
        NextAttemptReason = reason;
    }

    public void StartRetry(DateTimeOffset at)
    {
        Fire(DunningEvent.RetryStarted, at);
        RetriesMade++;
        NextAttemptAt = null;
    }

    public void RecordSoftDecline(string declineCode, DateTimeOffset at)
    {
        Fire(DunningEvent.SoftDecline, at);
        LastDeclineCode = declineCode;
    }

    public void RecordHardDecline(string declineCode, DateTimeOffset at)
    {
        Fire(DunningEvent.HardDecline, at);
        LastDeclineCode = declineCode;
        ClearSchedule();
    }

    /// <summary>
    /// A charge dunning did not make (support's, or a new card's) declined while the case waits: the case keeps its state
    /// and schedule, and records the decline, from which its next retry is planned and which its pages show.
    /// </summary>
    public void RecordDeclineOutsideRetry(string declineCode, DateTimeOffset at)
    {
        if (Status is not (DunningStatus.RetryPending or DunningStatus.AwaitingPaymentMethod))
            throw new DomainRuleException($"A decline outside the retries is recorded only on a waiting case; this one is {Status}.");
        LastDeclineCode = declineCode;
        UpdatedAt = at;
    }

    public void Recover(DateTimeOffset at)
    {
        Fire(DunningEvent.PaymentSucceeded, at);
        ClosedAt = at;
        ClearSchedule();
    }

    public void Exhaust(string finalAction, DateTimeOffset at)
    {
        Fire(DunningEvent.BudgetExhausted, at);
        FinalAction = finalAction;
        ClosedAt = at;
        ClearSchedule();
    }

    /// <summary>
    /// How long after a new card a case that waited for one is due for a retry: the card is charged at once by whoever
    /// attached it, so this is only the fallback that still charges it when that charge never happened (a crash in between).
    /// </summary>
    public static readonly TimeSpan NewPaymentMethodFallback = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The customer has a new default payment method: a case waiting for one goes back to waiting for a retry, due after
    /// <see cref="NewPaymentMethodFallback"/>; a case already waiting for a retry keeps its time.
    /// </summary>
    public void PaymentMethodAttached(DateTimeOffset at)
    {
        var waitedForCard = Status == DunningStatus.AwaitingPaymentMethod;
        Fire(DunningEvent.PaymentMethodAttached, at);
        if (waitedForCard)
            Schedule(at + NewPaymentMethodFallback, NextAttemptProbability ?? 0, "A new payment method was attached; it is charged at once.");
    }

    /// <summary>Support's "reset a stuck case": back to waiting for a retry, only after the gateway confirmed no success.</summary>
    public void Reset(DateTimeOffset at)
    {
        Fire(DunningEvent.Reset, at);
        ClearSchedule();
    }

    /// <summary>
    /// The claimed retry was never sent (the gateway's circuit breaker paused charging): it goes back to waiting, not counted
    /// as a retry, due again when the breaker lets charges through.
    /// </summary>
    public void PostponeWhileChargingPaused(DateTimeOffset until, DateTimeOffset at)
    {
        Fire(DunningEvent.ChargingPaused, at);
        RetriesMade--;
        NextAttemptAt = until;
        NextAttemptReason = "Postponed: charging was paused because the payment gateway was failing.";
    }

    public void CloseBecauseInvoiceClosed(DateTimeOffset at)
    {
        Fire(DunningEvent.InvoiceClosed, at);
        ClosedAt = at;
        ClearSchedule();
    }

    /// <summary>A newer policy version is in force: the case's next decision follows it.</summary>
    public void FollowPolicy(int version)
    {
        if (version < PolicyVersion) throw new DomainRuleException("A case only moves to a newer policy version.");
        PolicyVersion = version;
    }

    /// <summary>Takes a notify or block-plan-changes step of the ladder on its day: recorded once, with the time it was taken.</summary>
    public DunningStepTaken TakeStep(EscalationStep step, string? template, DateTimeOffset at)
    {
        if (step.Action == EscalationAction.FinalAction) throw new DomainRuleException("The final action is taken with TakeFinalAction.");
        if (!IsOpen) throw new DomainRuleException("Only an open case climbs the escalation ladder.");
        EnsureClimbs(step);
        return Record(step, template, at);
    }

    /// <summary>The ladder's final step on its day: the case ends exhausted, whatever retries it had left.</summary>
    public DunningStepTaken TakeFinalAction(EscalationStep step, string finalAction, DateTimeOffset at)
    {
        if (step.Action != EscalationAction.FinalAction) throw new DomainRuleException("Only the final-action step takes the final action.");
        EnsureClimbs(step);
        Fire(DunningEvent.FinalActionDayReached, at);
        FinalAction = finalAction;
        ClosedAt = at;
        ClearSchedule();
        return Record(step, null, at);
    }

    private void EnsureClimbs(EscalationStep step)
    {
        if (step.Day <= LastStepDay) throw new DomainRuleException("The escalation ladder only climbs.");
    }

    private DunningStepTaken Record(EscalationStep step, string? template, DateTimeOffset at)
    {
        var taken = new DunningStepTaken(Id, step.Day, step.Action, template, PolicyVersion, at);
        _steps.Add(taken);
        EscalationStep = _steps.Count;
        UpdatedAt = at;
        return taken;
    }

    private void ClearSchedule()
    {
        NextAttemptAt = null;
        NextAttemptProbability = null;
        NextAttemptReason = null;
    }
}

/// <summary>One escalation step a case has taken: which day of the ladder, what it did, under which policy version, and when.</summary>
public sealed class DunningStepTaken : Entity
{
    private DunningStepTaken() { }

    internal DunningStepTaken(Guid caseId, int day, EscalationAction action, string? template, int policyVersion, DateTimeOffset takenAt)
    {
        CaseId = caseId;
        Day = day;
        Action = action;
        Template = template;
        PolicyVersion = policyVersion;
        TakenAt = takenAt;
    }

    public Guid CaseId { get; private set; }
    public int Day { get; private set; }
    public EscalationAction Action { get; private set; }
    /// <summary>The message template a notify step calls for; null for the other steps.</summary>
    public string? Template { get; private set; }
    public int PolicyVersion { get; private set; }
    public DateTimeOffset TakenAt { get; private set; }
}
