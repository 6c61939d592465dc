using BillingConsole.Persistence;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>
/// Every minute, folds the changes queued since the last run into the tables the analytics read instead of scanning:
/// the deferred-revenue sums and the dunning case facts. Running it again, or on two nodes at once, folds nothing twice.
/// </summary>
public sealed class AnalyticsFoldJob(RevenueRecognitionRecorder revenueRecognition, DunningCaseFactsRecorder dunningCaseFacts)
{
    [AutomaticRetry(Attempts = 0)]
    public async Task<int> RunAsync(CancellationToken ct) =>
        await revenueRecognition.FoldAsync(ct) + await dunningCaseFacts.FoldAsync(ct);
}
