using BillingConsole.Configuration;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// The process-wide bound on gateway calls in flight, and the one place <see cref="BillingOptions.ChargeConcurrency"/> is
/// applied: several chunks charge their batches at once on one node, and together they stay within it.
/// </summary>
public sealed class ChargeThrottle(IOptions<BillingOptions> options)
{
    private readonly SemaphoreSlim _slots = new(options.Value.ChargeConcurrency, options.Value.ChargeConcurrency);

    public async Task<IDisposable> EnterAsync(CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        return new Slot(_slots);
    }

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) slots.Release();
        }
    }
}
