using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Subscriptions;

public enum SubscriptionStatus { Trialing, Active, PastDue, Unpaid, Paused, Canceled }

public enum SubscriptionEvent { TrialEnded, PaymentFailed, PaymentRecovered, MarkedUnpaid, Paused, Resumed, Canceled }

public enum CancellationKind { Voluntary, Involuntary }

public sealed class Subscription : Entity
{
    public static readonly StateMachine<SubscriptionStatus, SubscriptionEvent> Lifecycle = new(
        (SubscriptionStatus.Trialing, SubscriptionEvent.TrialEnded, SubscriptionStatus.Active),
        (SubscriptionStatus.Trialing, SubscriptionEvent.PaymentFailed, SubscriptionStatus.PastDue),
        (SubscriptionStatus.Trialing, SubscriptionEvent.Paused, SubscriptionStatus.Paused),
        (SubscriptionStatus.Trialing, SubscriptionEvent.Canceled, SubscriptionStatus.Canceled),
        (SubscriptionStatus.Active, SubscriptionEvent.PaymentFailed, SubscriptionStatus.PastDue),
        (SubscriptionStatus.Active, SubscriptionEvent.Paused, SubscriptionStatus.Paused),
        (SubscriptionStatus.Active, SubscriptionEvent.Canceled, SubscriptionStatus.Canceled),
        (SubscriptionStatus.PastDue, SubscriptionEvent.PaymentFailed, SubscriptionStatus.PastDue),
        (SubscriptionStatus.PastDue, SubscriptionEvent.PaymentRecovered, SubscriptionStatus.Active),
        (SubscriptionStatus.PastDue, SubscriptionEvent.MarkedUnpaid, SubscriptionStatus.Unpaid),
        (SubscriptionStatus.PastDue, SubscriptionEvent.Canceled, SubscriptionStatus.Canceled),
        (SubscriptionStatus.Unpaid, SubscriptionEvent.PaymentRecovered, SubscriptionStatus.Active),
        (SubscriptionStatus.Unpaid, SubscriptionEvent.Canceled, SubscriptionStatus.Canceled),
        (SubscriptionStatus.Paused, SubscriptionEvent.Resumed, SubscriptionStatus.Active),
        (SubscriptionStatus.Paused, SubscriptionEvent.Canceled, SubscriptionStatus.Canceled));

    private Subscription() { }

    /// <param name="billingAnchorDay">The day of month monthly periods keep, in the billing time zone (clamped in short months).</param>
    public Subscription(Guid customerId, Guid priceId, int quantity, DateTimeOffset start, DateTimeOffset periodEnd, DateTimeOffset? trialEnd,
        int? billingAnchorDay = null)
    {
        if (billingAnchorDay is < 1 or > 31) throw new DomainRuleException("The billing anchor day must be between 1 and 31.");
        if (quantity < 1) throw new DomainRuleException("Quantity must be at least 1.");
        if (periodEnd <= start) throw new DomainRuleException("A billing period must end after it starts.");
        CustomerId = customerId;
        PriceId = priceId;
        Quantity = quantity;
        CreatedAt = start;
        CurrentPeriodStart = start;
        CurrentPeriodEnd = periodEnd;
        TrialEnd = trialEnd;
        BillingAnchorDay = billingAnchorDay ?? start.Day;
        Status = trialEnd is null ? SubscriptionStatus.Active : SubscriptionStatus.Trialing;
    }

    public Guid CustomerId { get; private set; }
    public Guid PriceId { get; private set; }
    public int Quantity { get; private set; }
    public int BillingAnchorDay { get; private set; }
    public SubscriptionStatus Status { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset CurrentPeriodStart { get; private set; }
    public DateTimeOffset CurrentPeriodEnd { get; private set; }
    public DateTimeOffset? TrialEnd { get; private set; }
    public bool CancelAtPeriodEnd { get; private set; }
    public DateTimeOffset? CanceledAt { get; private set; }
    public CancellationKind? CancellationKind { get; private set; }
    public DateTimeOffset? PausedAt { get; private set; }
    /// <summary>A plan change that takes effect when the current period ends (downgrades by default).</summary>
    public Guid? PendingPriceId { get; private set; }
    public int? PendingQuantity { get; private set; }
    /// <summary>Set by the dunning ladder: plan changes are refused while a payment is overdue.</summary>
    public bool PlanChangesBlocked { get; private set; }

    /// <summary>Why a plan change is refused while <see cref="PlanChangesBlocked"/>: the sentence the API and the console show.</summary>
    public const string PlanChangesBlockedReason =
        "Plan changes are blocked because an invoice of this subscription is overdue; they are allowed again when it is paid or its dunning case is closed.";

    public bool IsBillable => Status is SubscriptionStatus.Trialing or SubscriptionStatus.Active or SubscriptionStatus.PastDue;

    private void Fire(SubscriptionEvent on) => Status = Lifecycle.Fire(Status, on);

    /// <summary>Moves to the next period after its invoice was written. Trials convert here.</summary>
    public void AdvancePeriod(DateTimeOffset newStart, DateTimeOffset newEnd)
    {
        if (newStart != CurrentPeriodEnd) throw new DomainRuleException("The next period must start where the current one ends.");
        if (newEnd <= newStart) throw new DomainRuleException("A billing period must end after it starts.");
        if (Status == SubscriptionStatus.Trialing) Fire(SubscriptionEvent.TrialEnded);
        ApplyPendingChange();
        CurrentPeriodStart = newStart;
        CurrentPeriodEnd = newEnd;
    }

    private void ApplyPendingChange()
    {
        if (PendingPriceId is not { } pending) return;
        PriceId = pending;
        Quantity = PendingQuantity ?? Quantity;
        PendingPriceId = null;
        PendingQuantity = null;
    }

    public void EndTrial() => Fire(SubscriptionEvent.TrialEnded);

    public void MarkPastDue() => Fire(SubscriptionEvent.PaymentFailed);

    public void Recover()
    {
        Fire(SubscriptionEvent.PaymentRecovered);
        PlanChangesBlocked = false;
    }

    public void MarkUnpaid() => Fire(SubscriptionEvent.MarkedUnpaid);

    public void Pause(DateTimeOffset at)
    {
        Fire(SubscriptionEvent.Paused);
        PausedAt = at;
    }

    public void Resume()
    {
        Fire(SubscriptionEvent.Resumed);
        PausedAt = null;
    }

    /// <summary>
    /// Resumes a subscription whose period ended while it was paused: a new period starts at the resumption, with its
    /// own anchor day, so the paused time is never billed. A scheduled plan change takes effect with the new period.
    /// </summary>
    public void ResumeWithNewPeriod(DateTimeOffset start, DateTimeOffset end, int billingAnchorDay)
    {
        if (start < CurrentPeriodEnd) throw new DomainRuleException("The current period has not ended yet; resume it instead.");
        if (end <= start) throw new DomainRuleException("A billing period must end after it starts.");
        if (billingAnchorDay is < 1 or > 31) throw new DomainRuleException("The billing anchor day must be between 1 and 31.");
        Resume();
        ApplyPendingChange();
        CurrentPeriodStart = start;
        CurrentPeriodEnd = end;
        BillingAnchorDay = billingAnchorDay;
    }

    public void Cancel(DateTimeOffset at, CancellationKind kind)
    {
        Fire(SubscriptionEvent.Canceled);
        CanceledAt = at;
        CancellationKind = kind;
        CancelAtPeriodEnd = false;
        PendingPriceId = null;
        PendingQuantity = null;
    }

    public void ScheduleCancellation()
    {
        if (Status == SubscriptionStatus.Canceled) throw new DomainRuleException("The subscription is already canceled.");
        CancelAtPeriodEnd = true;
    }

    public void UndoScheduledCancellation()
    {
        if (Status == SubscriptionStatus.Canceled) throw new DomainRuleException("The subscription is already canceled.");
        CancelAtPeriodEnd = false;
    }

    /// <summary>Immediate plan change: the proration lines are invoiced by the caller.</summary>
    public void ChangePrice(Guid priceId, int quantity)
    {
        EnsurePlanChangeAllowed(quantity);
        PriceId = priceId;
        Quantity = quantity;
        PendingPriceId = null;
        PendingQuantity = null;
    }

    public void SchedulePriceChange(Guid priceId, int quantity)
    {
        EnsurePlanChangeAllowed(quantity);
        PendingPriceId = priceId;
        PendingQuantity = quantity;
    }

    public void BlockPlanChanges() => PlanChangesBlocked = true;

    /// <summary>The dunning case that blocked plan changes has closed.</summary>
    public void AllowPlanChanges() => PlanChangesBlocked = false;

    private void EnsurePlanChangeAllowed(int quantity)
    {
        if (quantity < 1) throw new DomainRuleException("Quantity must be at least 1.");
        if (Status is SubscriptionStatus.Canceled or SubscriptionStatus.Unpaid or SubscriptionStatus.Paused)
            throw new DomainRuleException($"The plan of a {Status.ToSnakeCase()} subscription cannot be changed.");
        if (PlanChangesBlocked) throw new DomainRuleException(PlanChangesBlockedReason);
    }
}
