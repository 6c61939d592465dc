using BillingConsole.Engine.Billing;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Engine;

[PureTests]
public sealed class BillingRunTimingsTests
{
    [Fact]
    public void Each_lap_adds_the_time_since_the_previous_one_to_its_own_phase_and_laps_on_many_threads_add_up()
    {
        var timings = new BillingRunTimings();

        Parallel.For(0, 4, _ =>
        {
            var lap = timings.Start();
            Thread.Sleep(30);
            lap.Done(BillingRunPhase.Load);
            Thread.Sleep(10);
            lap.Done(BillingRunPhase.Charge);
        });

        var totals = timings.Totals();
        Assert.InRange(totals[BillingRunPhase.Load], TimeSpan.FromMilliseconds(4 * 30), TimeSpan.FromSeconds(10));
        Assert.InRange(totals[BillingRunPhase.Charge], TimeSpan.FromMilliseconds(4 * 10), TimeSpan.FromSeconds(10));
        Assert.All(totals.Where(t => t.Key is not (BillingRunPhase.Load or BillingRunPhase.Charge)), t => Assert.Equal(TimeSpan.Zero, t.Value));
        Assert.Equal(Enum.GetValues<BillingRunPhase>().Length, totals.Count);
    }
}
