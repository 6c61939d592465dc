using BillingConsole.Persistence;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>
/// Every hour, records MRR movements and today's MRR snapshot (the day's last recording is its snapshot). Running it again,
/// or on two nodes at once, writes nothing twice.
/// </summary>
public sealed class MrrRecordingJob(MrrRecorder recorder, TimeProvider clock)
{
    [AutomaticRetry(Attempts = 0)]
    public Task<int> RunAsync(CancellationToken ct) => recorder.RecordAsync(clock.GetUtcNow(), ct);
}
