namespace BillingConsole.Engine.Dunning;

/// <summary>One retry the model is asked about.</summary>
/// <param name="DeclineCode">The decline of the failure the retry follows.</param>
/// <param name="AttemptNumber">1 for the first dunning retry.</param>
/// <param name="DaysSinceFirstFailure">Fractional days from the failure that opened the case.</param>
/// <param name="LocalTime">The retry time on the customer's clock: weekday, hour and day of month come from it.</param>
public readonly record struct RecoveryQuery(string DeclineCode, int AttemptNumber, double DaysSinceFirstFailure, DateTime LocalTime);

/// <summary>One reason a retry time is better or worse than average: "Tuesday", 1.2.</summary>
public sealed record RecoveryFactor(string Description, double Multiplier);

/// <summary>Estimates the probability that a retry succeeds.</summary>
public interface IRecoveryModel
{
    double Probability(in RecoveryQuery query);

    /// <summary>Whether the retry number changes the chance; when it does not, the scheduler asks once per slot.</summary>
    bool UsesAttemptNumber => true;

    /// <summary>
    /// The chances at one slot of the retries numbered <see cref="RecoveryQuery.AttemptNumber"/>, the next, and so on, one per
    /// element of <paramref name="byAttempt"/>: the scheduler's search asks this once per slot, so a model whose slot factors do
    /// not depend on the retry number works them out once.
    /// </summary>
    void Probabilities(in RecoveryQuery query, Span<double> byAttempt)
    {
        for (var k = 0; k < byAttempt.Length; k++) byAttempt[k] = Probability(query with { AttemptNumber = query.AttemptNumber + k });
    }

    /// <summary>The multipliers behind <see cref="Probability"/>, for the reason shown to support agents.</summary>
    IReadOnlyList<RecoveryFactor> Explain(in RecoveryQuery query) => [];
}
