using System.Diagnostics;

namespace BillingConsole.Engine.Billing;

/// <summary>
/// The steps of a billing run whose time is measured, in the order a chunk goes through them; the charge steps are also those
/// of a dunning retry pass, which claims its cases first.
/// </summary>
public enum BillingRunPhase
{
    /// <summary>Selecting the due subscriptions and storing them as chunks.</summary>
    Plan,
    /// <summary>Queuing one background job per chunk.</summary>
    FanOut,
    /// <summary>Row locks on subscriptions and customers, charge claims on invoices.</summary>
    Lock,
    /// <summary>Reading what generation and charging need: prices, waiting lines, existing invoices, payment methods.</summary>
    Load,
    /// <summary>The pure invoice generator and issuer.</summary>
    Generate,
    /// <summary>Invoices, their lines and ledger entries.</summary>
    WriteInvoices,
    /// <summary>New periods, credit balances, the chunk's mark and the invoicing transaction's commit.</summary>
    AdvancePeriods,
    /// <summary>Pending attempts saved before the gateway is called.</summary>
    WriteAttempts,
    /// <summary>The gateway calls of a batch, all in flight together.</summary>
    Charge,
    /// <summary>Attempts, paid invoices, payment ledger entries, moved subscriptions and the chunk's counters.</summary>
    RecordOutcomes,
    /// <summary>The payment event handlers: dunning cases opened for failures, closed for successes.</summary>
    OpenDunning,
    /// <summary>The dunning retry pass's own step before it charges: claiming a round of due cases.</summary>
    ClaimRetries,
}

/// <summary>
/// Time spent in each <see cref="BillingRunPhase"/> since the process started, summed over chunks and workers, so that
/// <c>benchmark-billing</c> can say where a run's time goes. A measurement costs a timestamp and one atomic add.
/// </summary>
public sealed class BillingRunTimings
{
    private readonly long[] _ticks = new long[Enum.GetValues<BillingRunPhase>().Length];

    /// <summary>Starts timing a sequence of phases: each <see cref="Lap.Done"/> adds the time since the previous one.</summary>
    public Lap Start() => new(this);

    /// <summary>The time summed in each phase so far.</summary>
    public IReadOnlyDictionary<BillingRunPhase, TimeSpan> Totals() =>
        Enum.GetValues<BillingRunPhase>().ToDictionary(phase => phase, phase => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks[(int)phase])));

    public sealed class Lap(BillingRunTimings timings)
    {
        private long _mark = Stopwatch.GetTimestamp();

        /// <summary>Adds the time since the start or the previous phase to <paramref name="phase"/>.</summary>
        public void Done(BillingRunPhase phase)
        {
            var now = Stopwatch.GetTimestamp();
            Interlocked.Add(ref timings._ticks[(int)phase], now - _mark);
            _mark = now;
        }
    }
}
