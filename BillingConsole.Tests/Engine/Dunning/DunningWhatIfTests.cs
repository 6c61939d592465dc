using BillingConsole.Domain.Dunning;
using BillingConsole.Engine.Dunning.Simulation;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine.Dunning;

/// <summary>The what-if over a demo installation of the size ./run.sh seeds: its real failed payments replayed under two policies.</summary>
public sealed class DunningWhatIfTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;

    public async ValueTask InitializeAsync()
    {
        (_database, _) = await DemoDatabases.CreateAsync("whatif", DemoDatabases.Standard);
        _engine = EngineServices.Create(_database);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task The_last_90_days_of_failures_are_replayed_under_both_policies_within_a_few_seconds()
    {
        var current = DunningPolicySettings.Default;
        var stingy = DunningPolicySettings.Default with { Mode = RetryMode.Fixed, FixedIntervalsDays = [3], AttemptBudget = 1 };
        var progress = new List<double>();

        var report = await _engine.Get<DunningWhatIf>().CompareAsync(current, stingy, new SynchronousProgress(progress), Ct);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"What-if over {report.Failures} failures ({report.LearnedFromAttempts} retries learned from): {report.Elapsed.TotalSeconds:0.00} s; " +
            $"current {report.Current.RecoveryRate:P1} with {report.Current.AttemptsUsed} retries, proposed {report.Proposed.RecoveryRate:P1} with {report.Proposed.AttemptsUsed}");
        await using (var db = _database.NewContext())
        {
            var since = _engine.Clock.GetUtcNow().AddDays(-DunningWhatIf.WindowDays);
            Assert.Equal(await db.DunningCases.CountAsync(c => c.OpenedAt >= since, Ct), report.Failures);
        }
        Assert.True(report.Failures > 50, $"The demo population should have failed payments in the last 90 days, found {report.Failures}.");
        Assert.True(report.LearnedFromAttempts > 0);
        Assert.InRange(report.Proposed.AttemptsUsed, 1, report.Failures);
        Assert.True(report.Current.AttemptsUsed > report.Proposed.AttemptsUsed);
        Assert.InRange(report.Current.RecoveryRate, 0.01, 0.99);
        Assert.Equal(1.0, progress[^1]);
        Assert.Equal(report.Current.RecoveryRate, report.Current.RecoveredByDay[^1], 6);
        Assert.Equal(report.Current.RecoveredByDay.Order(), report.Current.RecoveredByDay);
        Assert.True(report.Elapsed < TimeSpan.FromSeconds(10), $"The what-if took {report.Elapsed.TotalSeconds:0.0} s.");
    }

    [Fact]
    public async Task The_same_policy_replayed_twice_gives_the_same_figures()
    {
        var policy = DunningPolicySettings.Default with { Mode = RetryMode.Fixed, FixedIntervalsDays = [1, 3, 5, 7] };

        var report = await _engine.Get<DunningWhatIf>().CompareAsync(policy, policy, null, Ct);

        Assert.Equal(report.Current.Recovered, report.Proposed.Recovered);
        Assert.Equal(report.Current.AttemptsUsed, report.Proposed.AttemptsUsed);
        Assert.Equal(report.Current.RecoveredRevenue, report.Proposed.RecoveredRevenue);
        Assert.True(report.Current.Recovered > 0);
    }

    /// <summary>Records each report as it is made (Progress&lt;T&gt; would post them later, to a thread pool).</summary>
    private sealed class SynchronousProgress(List<double> reports) : IProgress<double>
    {
        public void Report(double value)
        {
            lock (reports) reports.Add(value);
        }
    }
}
