namespace BillingConsole.Engine.Dunning;

public enum StopKind
{
    /// <summary>The card cannot succeed again; the case waits for a new payment method.</summary>
    HardDecline,
    /// <summary>The bank wants the customer to authenticate the payment, which no off-session retry can do; the case waits for them.</summary>
    AuthenticationRequired,
    /// <summary>The attempt budget (or the fixed schedule) is used up.</summary>
    BudgetExhausted,
    /// <summary>No retry fits before the policy's final-action day or the card networks' 30-day window.</summary>
    WindowOver,
}

/// <summary>The scheduler's answer: retry at a time, or stop. Reasons are one sentence for support agents.</summary>
public abstract record RetryDecision
{
    // Private so that Retry and Stop are the only answers there can be.
    private RetryDecision(string reason) => Reason = reason;

    public string Reason { get; }

    public sealed record Retry(DateTimeOffset At, double EstimatedProbability, string Reason) : RetryDecision(Reason);

    public sealed record Stop(StopKind Kind, string Reason) : RetryDecision(Reason);
}
