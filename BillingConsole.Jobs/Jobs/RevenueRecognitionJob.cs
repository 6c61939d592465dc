using BillingConsole.Persistence;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>
/// Every minute, folds the invoices issued or voided since the last run into the deferred-revenue buckets, so that the
/// Journal page's figures read few rows. Running it again, or on two nodes at once, folds nothing twice.
/// </summary>
public sealed class RevenueRecognitionJob(RevenueRecognitionRecorder recorder)
{
    [AutomaticRetry(Attempts = 0)]
    public Task<int> RunAsync(CancellationToken ct) => recorder.FoldAsync(ct);
}
