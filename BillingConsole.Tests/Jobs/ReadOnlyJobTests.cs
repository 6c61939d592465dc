using BillingConsole.Jobs;
using BillingConsole.Persistence.Availability;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Hangfire;

namespace BillingConsole.Tests.Jobs;

/// <summary>While the node is read-only its Hangfire workers take no work: a job is put back, untouched, and runs once writable.</summary>
public sealed class ReadOnlyJobTests
{
    [Fact]
    public async Task A_job_fetched_while_read_only_is_scheduled_again_without_running_and_runs_once_writable()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await TestDatabases.CreateMigratedAsync("read_only_jobs");
        await using var engine = EngineServices.Create(database, hangfire: true);
        await engine.StartAsync();
        // The monitor's first probe runs at start and would make the node writable again; wait for it (the fake clock
        // never ticks its timer, so no later probe comes).
        Assert.True(await engine.Get<DatabaseMonitor>().ProbeNowAsync(ct));
        var state = engine.Get<ReadOnlyState>();
        state.Enter("the database cannot be reached", engine.Clock.GetUtcNow());

        var jobId = engine.Get<IBackgroundJobClient>().Enqueue<DashboardRefreshJob>(job => job.RunAsync(CancellationToken.None));
        var paused = await WaitForStateAsync(database, jobId, "Scheduled", ct);

        Assert.StartsWith("Paused while read-only: BillingConsole is read-only since", paused.Reason);
        Assert.Equal(0, await SnapshotsAsync(database));

        state.Leave();
        engine.Get<IBackgroundJobClient>().Requeue(jobId);
        await WaitForStateAsync(database, jobId, "Succeeded", ct);
        Assert.Equal(1, await SnapshotsAsync(database));
    }

    private static async Task<(string Name, string? Reason)> WaitForStateAsync(MigratedDatabase database, string jobId, string expected, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        (string Name, string? Reason) current = ("none", null);
        while (DateTime.UtcNow < deadline)
        {
            await using var connection = await database.DataSource.OpenConnectionAsync(ct);
            current = await connection.QuerySingleAsync<(string, string?)>(
                "select j.statename, s.reason from hangfire.job j join hangfire.state s on s.id = j.stateid where j.id = @id",
                new { id = long.Parse(jobId) });
            if (current.Name == expected) return current;
            await Task.Delay(200, ct);
        }
        throw new TimeoutException($"Job {jobId} is {current.Name} ({current.Reason}), not {expected}.");
    }

    private static async Task<int> SnapshotsAsync(MigratedDatabase database)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        return await connection.QuerySingleAsync<int>("select count(*)::int from dashboard_snapshots");
    }
}
