using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Domain.Payments.CircuitState;
using static BillingConsole.Tests.Domain.Build;

namespace BillingConsole.Tests.Domain;

[PureTests]
public sealed class GatewayCircuitTests : TransitionTableTests<GatewayCircuit, CircuitState, CircuitEvent>
{
    private static readonly CircuitState? __ = null;
    private static readonly CircuitRules Rules = new(3, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10));
    private static readonly CircuitRules OpensAtOnce = Rules with { FailureThreshold = 1 };
    private static readonly CircuitRules NeverOpens = Rules with { FailureThreshold = 1000 };
    /// <summary>Later than any break or trial timeout begun at T0.</summary>
    private static readonly DateTimeOffset Later = T0.AddHours(1);

    protected override StateMachine<CircuitState, CircuitEvent> Machine => GatewayCircuit.Lifecycle;

    protected override IReadOnlyDictionary<(CircuitState From, CircuitEvent On), CircuitState> Expected { get; } = Matrix(
        //          FaultCounted ThresholdReached TrialStarted TrialSucceeded TrialFailed ClosedByHand
        (Closed,   [Closed,      Open,            __,          __,            __,         __]),
        (Open,     [__,          __,              HalfOpen,    __,            __,         Closed]),
        (HalfOpen, [__,          __,              HalfOpen,    Closed,        Open,       Closed]));

    protected override GatewayCircuit InState(CircuitState state)
    {
        var circuit = new GatewayCircuit("sandbox", T0);
        if (state is Open or HalfOpen) circuit.CountFault(T0, OpensAtOnce, "ERR_GATEWAY_TIMEOUT");
        if (state is HalfOpen) circuit.StartTrial(T0.AddMinutes(1), Rules);
        return circuit;
    }

    protected override void Fire(GatewayCircuit circuit, CircuitEvent on)
    {
        switch (on)
        {
            case CircuitEvent.FaultCounted: circuit.CountFault(Later, NeverOpens, "503"); break;
            case CircuitEvent.ThresholdReached: circuit.CountFault(Later, OpensAtOnce, "503"); break;
            case CircuitEvent.TrialStarted: circuit.StartTrial(Later, Rules); break;
            case CircuitEvent.TrialSucceeded: circuit.RecordTrialSuccess(Later); break;
            case CircuitEvent.TrialFailed: circuit.RecordTrialFailure(Later, Rules, "503"); break;
            case CircuitEvent.ClosedByHand: circuit.CloseByHand(Later); break;
            default: throw new ArgumentOutOfRangeException(nameof(on), on, null);
        }
    }

    protected override CircuitState StateOf(GatewayCircuit circuit) => circuit.State;

    [Fact]
    public void Faults_within_the_window_open_it_for_the_break_and_a_fault_after_the_window_starts_counting_again()
    {
        var circuit = new GatewayCircuit("sandbox", T0);
        circuit.CountFault(T0, Rules, "503");
        circuit.CountFault(T0.AddSeconds(30), Rules, "503");
        // The window began with the first fault: a minute and a second later the count starts over.
        circuit.CountFault(T0.AddSeconds(61), Rules, "503");
        Assert.Equal((Closed, 1), (circuit.State, circuit.RecentFailures));

        circuit.CountFault(T0.AddSeconds(70), Rules, "503");
        circuit.CountFault(T0.AddSeconds(80), Rules, "timeout");

        Assert.Equal((Open, 3, "timeout"), (circuit.State, circuit.RecentFailures, circuit.LastFault));
        Assert.Equal(T0.AddSeconds(80), circuit.Since);
        Assert.Equal(T0.AddSeconds(110), circuit.RetryAt);
    }

    [Fact]
    public void While_open_charges_are_refused_until_the_break_is_over_then_one_trial_is_let_through()
    {
        var circuit = InState(Open);

        Assert.True(circuit.Ask(T0).Equals(new ChargePermission(false, T0.AddSeconds(30))));
        Assert.Throws<DomainRuleException>(() => circuit.StartTrial(T0.AddSeconds(29), Rules));
        var trial = circuit.Ask(T0.AddSeconds(30));
        Assert.True(trial is { Allowed: true, IsTrial: true });

        circuit.StartTrial(T0.AddSeconds(30), Rules);
        var whileTrialRuns = circuit.Ask(T0.AddSeconds(31));
        Assert.Equal((false, T0.AddSeconds(40)), (whileTrialRuns.Allowed, whileTrialRuns.RetryAt));
        // A trial nobody answered within its timeout is replaced by the next one.
        Assert.True(circuit.Ask(T0.AddSeconds(40)).IsTrial);
        Assert.Equal(ChargePermission.Granted, new GatewayCircuit("sandbox", T0).Ask(T0));
    }

    [Fact]
    public void Only_faults_count_and_only_the_running_trial_decides_the_half_open_breaker()
    {
        var closed = new GatewayCircuit("sandbox", T0);
        Assert.Null(closed.EventFor(ChargePermission.Granted, fault: false, Rules, T0));
        Assert.Equal(CircuitEvent.FaultCounted, closed.EventFor(ChargePermission.Granted, fault: true, Rules, T0));
        Assert.Equal(CircuitEvent.ThresholdReached, closed.EventFor(ChargePermission.Granted, fault: true, OpensAtOnce, T0));

        var halfOpen = InState(HalfOpen);
        var trial = new ChargePermission(true, TrialStartedAt: halfOpen.TrialStartedAt);
        var earlierTrial = new ChargePermission(true, TrialStartedAt: T0);
        Assert.Equal(CircuitEvent.TrialSucceeded, halfOpen.EventFor(trial, fault: false, Rules, Later));
        Assert.Equal(CircuitEvent.TrialFailed, halfOpen.EventFor(trial, fault: true, Rules, Later));
        Assert.Null(halfOpen.EventFor(earlierTrial, fault: true, Rules, Later));
        // A late answer to a charge sent before the breaker opened changes nothing.
        Assert.Null(halfOpen.EventFor(ChargePermission.Granted, fault: true, Rules, Later));
        Assert.Null(InState(Open).EventFor(ChargePermission.Granted, fault: true, Rules, Later));
    }

    [Fact]
    public void A_failed_trial_opens_it_for_another_break_and_a_successful_one_or_an_admin_clears_the_count()
    {
        var failed = InState(HalfOpen);
        failed.RecordTrialFailure(Later, Rules, "503");
        Assert.Equal((Open, Later, Later.AddSeconds(30), 2), (failed.State, failed.Since, failed.RetryAt, failed.RecentFailures));

        var succeeded = InState(HalfOpen);
        succeeded.RecordTrialSuccess(Later);
        var closedByHand = InState(Open);
        closedByHand.CloseByHand(Later);
        foreach (var circuit in new[] { succeeded, closedByHand })
            Assert.Equal((Closed, Later, 0, (DateTimeOffset?)null), (circuit.State, circuit.Since, circuit.RecentFailures, circuit.RetryAt));
    }
}
