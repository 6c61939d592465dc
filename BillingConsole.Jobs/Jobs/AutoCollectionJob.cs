using BillingConsole.Engine.Payments;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>
/// Every five minutes, makes the first charge of the open invoices whose collection delay has passed and that nothing has
/// tried (see <see cref="AutoCollector"/>). Nodes running it at once are harmless: an invoice is charged by one of them.
/// </summary>
public sealed class AutoCollectionJob(AutoCollector collector)
{
    // It charges cards: a failed run is not repeated blindly; the next run five minutes later takes whatever is still due.
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(CancellationToken ct) => collector.RunDueAsync(ct);
}
