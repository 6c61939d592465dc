using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.ReadModels;

/// <summary>The rate and the time left that the billing runs page shows for a run, and why it left a due subscription without an invoice.</summary>
[PureTests]
public sealed class BillingRunRowTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 5, 0, TimeSpan.Zero);

    private static BillingRunRow Run(string status, DateTimeOffset? finishedAt, int due, int charged, int failed) =>
        new(Guid.NewGuid(), status, "schedule", "system", Start, Start, finishedAt, due, 1, 1, charged + failed, charged, failed, null);

    [Fact]
    public void A_running_run_charges_at_its_rate_so_far_and_finishes_the_rest_at_it()
    {
        var run = Run("running", null, due: 1_000, charged: 180, failed: 20);

        Assert.Equal(20.0, run.RatePerSecond(Start.AddSeconds(10)));
        Assert.Equal(TimeSpan.FromSeconds(40), run.EstimatedTimeLeft(Start.AddSeconds(10)));
    }

    [Fact]
    public void A_run_that_took_no_time_has_no_rate_rather_than_a_rate_of_nothing()
    {
        // A run on a test clock, or one of the demo's history played in simulated time, starts and finishes at one instant.
        var instant = Run("completed", Start, due: 47, charged: 40, failed: 6);
        var justStarted = Run("running", null, due: 47, charged: 0, failed: 0);

        Assert.Null(instant.RatePerSecond(Start.AddHours(1)));
        Assert.Null(instant.EstimatedTimeLeft(Start.AddHours(1)));
        Assert.Null(justStarted.RatePerSecond(Start));
        Assert.Null(justStarted.EstimatedTimeLeft(Start.AddSeconds(5)));
    }

    [Fact]
    public void A_finished_run_keeps_the_rate_it_ran_at_and_has_no_time_left()
    {
        var run = Run("completed", Start.AddSeconds(4), due: 100, charged: 90, failed: 10);

        Assert.Equal(25.0, run.RatePerSecond(Start.AddHours(5)));
        Assert.Null(run.EstimatedTimeLeft(Start.AddHours(5)));
    }

    [Fact]
    public void A_finished_runs_invoices_it_did_not_charge_are_the_invoiced_less_the_charged_and_failed()
    {
        Assert.Equal(2, (Run("completed", Start.AddSeconds(4), due: 38, charged: 32, failed: 3) with { InvoicedCount = 37 }).NotCharged);
        Assert.Equal(0, Run("completed", Start.AddSeconds(4), due: 50, charged: 46, failed: 3).NotCharged);
        Assert.Null(Run("running", null, due: 50, charged: 10, failed: 0).NotCharged);
    }

    [Theory]
    [InlineData("canceled", -24, "ended at its period end, as scheduled")]
    [InlineData("canceled", 2, "canceled after the run selected it")]
    [InlineData("paused", null, "paused after the run selected it")]
    [InlineData("unpaid", null, "marked unpaid after the run selected it")]
    [InlineData("active", null, "no longer due when its chunk ran")]
    [InlineData("past_due", null, "no longer due when its chunk ran")]
    public void A_due_subscription_left_without_an_invoice_says_what_happened_to_it(string status, int? canceledHoursAfterTheRun, string outcome)
    {
        var skipped = new BillingRunSkippedRow(Guid.NewGuid(), "Starter", 1, Guid.NewGuid(), "Acme", status,
            canceledHoursAfterTheRun is { } hours ? Start.AddHours(hours) : null);

        Assert.Equal(outcome, skipped.Outcome(Start));
    }
}
