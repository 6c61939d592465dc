using BillingConsole.Persistence.Availability;
using Hangfire.Common;
using Hangfire.Server;
using Hangfire.States;

namespace BillingConsole.Jobs;

/// <summary>
/// While the node is read-only no job starts: the job is refused before its method runs and scheduled again a little later,
/// untouched, instead of failing. (With the database gone the workers fetch nothing anyway; this covers the jobs fetched
/// in the moments around the loss.)
/// </summary>
public sealed class PauseWhileReadOnly(ReadOnlyState state) : JobFilterAttribute, IServerFilter, IElectStateFilter
{
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(30);

    public void OnPerforming(PerformingContext context) => state.EnsureWritable();

    public void OnPerformed(PerformedContext context) { }

    public void OnStateElection(ElectStateContext context)
    {
        if (context.CandidateState is FailedState { Exception: var failure } && (failure is ReadOnlyException || failure.InnerException is ReadOnlyException))
            context.CandidateState = new ScheduledState(RetryDelay) { Reason = "Paused while read-only: " + (failure.InnerException ?? failure).Message };
    }
}
