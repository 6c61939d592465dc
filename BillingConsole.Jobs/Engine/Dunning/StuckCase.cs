using BillingConsole.Configuration;

namespace BillingConsole.Engine.Dunning;

/// <summary>
/// When a dunning case is stuck, which is when support may reset it: its retry has been running for longer than a charge
/// may take (the process making it died), or a payment attempt of its invoice is still unconfirmed past the
/// reconciliation grace. A pure rule of the case's state, the attempt times and the gateway settings.
/// </summary>
public sealed record StuckCase(TimeSpan ChargeDeadline, TimeSpan ReconcileGrace)
{
    public static StuckCase From(GatewayOptions options) =>
        new(TimeSpan.FromMilliseconds(options.ChargeTimeoutMs), TimeSpan.FromSeconds(options.ReconcileGraceSeconds));

    /// <summary>Why the case is stuck, in a sentence for support; null when it is not.</summary>
    /// <param name="retryingSince">When its retry started, if it is retrying now.</param>
    /// <param name="oldestUnconfirmedAttemptAt">When the oldest pending or unknown attempt of its invoice started, if any.</param>
    public string? Why(bool isOpen, DateTimeOffset? retryingSince, DateTimeOffset? oldestUnconfirmedAttemptAt, DateTimeOffset now)
    {
        if (!isOpen) return null;
        if (retryingSince is { } since && now - since > ChargeDeadline)
            return $"Its retry has been running since {since:yyyy-MM-dd HH:mm:ss} UTC, longer than the {ChargeDeadline.TotalSeconds:0} s a charge may take.";
        if (oldestUnconfirmedAttemptAt is { } started && now - started > ReconcileGrace)
            return $"A payment attempt started {started:yyyy-MM-dd HH:mm:ss} UTC is still unconfirmed, past the {ReconcileGrace.TotalSeconds:0} s reconciliation grace.";
        return null;
    }
}
