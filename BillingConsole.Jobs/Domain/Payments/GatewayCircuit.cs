using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Payments;

public enum CircuitState { Closed, Open, HalfOpen }

public enum CircuitEvent { FaultCounted, ThresholdReached, TrialStarted, TrialSucceeded, TrialFailed, ClosedByHand }

/// <summary>The breaker's thresholds: <paramref name="FailureThreshold"/> faults within <paramref name="Window"/> open it for
/// <paramref name="Break"/>; a trial charge left unanswered for <paramref name="TrialTimeout"/> is given up and another one sent.</summary>
public sealed record CircuitRules(int FailureThreshold, TimeSpan Window, TimeSpan Break, TimeSpan TrialTimeout);

/// <summary>What the breaker lets a charge do. A trial is the one charge sent while half-open; its outcome decides the state.</summary>
/// <param name="RetryAt">When refused: the time the breaker lets a trial charge through.</param>
/// <param name="TrialStartedAt">When a trial: the trial's identity, so only its own outcome closes or re-opens the breaker.</param>
public sealed record ChargePermission(bool Allowed, DateTimeOffset? RetryAt = null, DateTimeOffset? TrialStartedAt = null)
{
    public static readonly ChargePermission Granted = new(true);

    public bool IsTrial => TrialStartedAt is not null;
}

/// <summary>
/// The payment gateway's circuit breaker. Gateway faults (timeouts, 5xx, connection resets: every unknown outcome) are
/// counted; declines are the gateway working and never count. Enough faults within the window open it: no charge is sent
/// until the break has passed, then one trial charge is let through (half-open): its success closes the breaker, its fault
/// opens it again for another break. An admin may close it by hand.
/// </summary>
public sealed class GatewayCircuit
{
    public static readonly StateMachine<CircuitState, CircuitEvent> Lifecycle = new(
        (CircuitState.Closed, CircuitEvent.FaultCounted, CircuitState.Closed),
        (CircuitState.Closed, CircuitEvent.ThresholdReached, CircuitState.Open),
        (CircuitState.Open, CircuitEvent.TrialStarted, CircuitState.HalfOpen),
        (CircuitState.Open, CircuitEvent.ClosedByHand, CircuitState.Closed),
        // The trial's node died or never reported back: another trial replaces it.
        (CircuitState.HalfOpen, CircuitEvent.TrialStarted, CircuitState.HalfOpen),
        (CircuitState.HalfOpen, CircuitEvent.TrialSucceeded, CircuitState.Closed),
        (CircuitState.HalfOpen, CircuitEvent.TrialFailed, CircuitState.Open),
        (CircuitState.HalfOpen, CircuitEvent.ClosedByHand, CircuitState.Closed));

    private GatewayCircuit() { }

    public GatewayCircuit(string gateway, DateTimeOffset now)
    {
        Gateway = gateway;
        State = CircuitState.Closed;
        Since = now;
    }

    public string Gateway { get; private set; } = string.Empty;
    public CircuitState State { get; private set; }
    /// <summary>When the current state began.</summary>
    public DateTimeOffset Since { get; private set; }
    /// <summary>Faults counted since <see cref="WindowStartedAt"/> (closed), or that opened the breaker.</summary>
    public int RecentFailures { get; private set; }
    public DateTimeOffset? WindowStartedAt { get; private set; }
    /// <summary>Open: when a trial charge may be sent. Half-open: when an unanswered trial is given up.</summary>
    public DateTimeOffset? RetryAt { get; private set; }
    /// <summary>The running trial's identity (half-open only).</summary>
    public DateTimeOffset? TrialStartedAt { get; private set; }
    public string? LastFault { get; private set; }

    /// <summary>Pure: may a charge be sent now? Closed: yes. Open or half-open: no until <see cref="RetryAt"/>, then a trial is due.</summary>
    public ChargePermission Ask(DateTimeOffset now) =>
        State == CircuitState.Closed ? ChargePermission.Granted
        : now < RetryAt ? new ChargePermission(false, RetryAt)
        : new ChargePermission(true, TrialStartedAt: now);

    /// <summary>
    /// Pure: what an answer to a charge sent under <paramref name="permission"/> means for the breaker, or null when it means
    /// nothing: a success in closed state, a late answer to a charge sent before the breaker opened, another trial's outcome.
    /// </summary>
    public CircuitEvent? EventFor(ChargePermission permission, bool fault, CircuitRules rules, DateTimeOffset now)
    {
        if (permission.IsTrial)
        {
            if (State != CircuitState.HalfOpen || TrialStartedAt != permission.TrialStartedAt) return null;
            return fault ? CircuitEvent.TrialFailed : CircuitEvent.TrialSucceeded;
        }
        if (!fault || State != CircuitState.Closed) return null;
        return FailuresInWindowAfterOne(rules.Window, now) >= rules.FailureThreshold ? CircuitEvent.ThresholdReached : CircuitEvent.FaultCounted;
    }

    /// <summary>Counts a gateway fault while closed; the one that reaches the threshold opens the breaker for a break.</summary>
    public void CountFault(DateTimeOffset now, CircuitRules rules, string fault)
    {
        var failures = FailuresInWindowAfterOne(rules.Window, now);
        var opens = failures >= rules.FailureThreshold;
        Fire(opens ? CircuitEvent.ThresholdReached : CircuitEvent.FaultCounted, now, changesSince: opens);
        if (failures == 1) WindowStartedAt = now;
        RecentFailures = failures;
        LastFault = fault;
        if (opens) RetryAt = now + rules.Break;
    }

    /// <summary>Lets one trial charge through; it must be answered within the trial timeout or another replaces it.</summary>
    public void StartTrial(DateTimeOffset now, CircuitRules rules)
    {
        if (State != CircuitState.Closed && now < RetryAt)
            throw new DomainRuleException($"The breaker lets a trial charge through at {RetryAt:u}, not before.");
        Fire(CircuitEvent.TrialStarted, now, changesSince: State == CircuitState.Open);
        TrialStartedAt = now;
        RetryAt = now + rules.TrialTimeout;
    }

    public void RecordTrialSuccess(DateTimeOffset now)
    {
        Fire(CircuitEvent.TrialSucceeded, now, changesSince: true);
        Reset();
    }

    public void RecordTrialFailure(DateTimeOffset now, CircuitRules rules, string fault)
    {
        Fire(CircuitEvent.TrialFailed, now, changesSince: true);
        RecentFailures++;
        LastFault = fault;
        TrialStartedAt = null;
        RetryAt = now + rules.Break;
    }

    /// <summary>An admin's decision that the gateway works again: charging resumes at once.</summary>
    public void CloseByHand(DateTimeOffset now)
    {
        Fire(CircuitEvent.ClosedByHand, now, changesSince: true);
        Reset();
    }

    private int FailuresInWindowAfterOne(TimeSpan window, DateTimeOffset now) =>
        WindowStartedAt is { } started && now - started <= window ? RecentFailures + 1 : 1;

    private void Fire(CircuitEvent on, DateTimeOffset now, bool changesSince)
    {
        State = Lifecycle.Fire(State, on);
        if (changesSince) Since = now;
    }

    private void Reset()
    {
        RecentFailures = 0;
        WindowStartedAt = null;
        RetryAt = null;
        TrialStartedAt = null;
    }
}
