using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace BillingConsole.Tests.Persistence;

/// <summary>
/// The dunning dashboard figures over a small history written through the domain, every figure worked out by hand.
/// March 2027 cohort (UTC):
/// A 100 USD insufficient_funds, opened Mon 1st 10:00; retry 1 Wed 3rd 09:00 fails, retry 2 Fri 5th 09:00 pays (3.958333 days).
/// B 50 USD do_not_honor, opened Tue 2nd 12:00; retry 1 Thu 4th 09:00 pays (1.875 days).
/// C 30 EUR insufficient_funds, opened Wed 3rd 08:00; retry 1 Fri 5th 09:00 and retry 2 Mon 8th 14:00 fail; exhausted Wed 10th.
/// D 20 USD stolen_card, opened Thu 4th: waits for a new card.
/// E 10 USD insufficient_funds, opened Sat 6th: retry pending, due Mon 8th 00:00.
/// G 40 USD try_again_later, opened Sun 7th 06:00; retry 1 Sun 7th 18:00 pays (0.5 days).
/// F 999 USD, opened and recovered in February: outside the cohort.
/// </summary>
public sealed class DunningStatisticsTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly DateTimeOffset Now = new(2027, 3, 11, 0, 0, 0, TimeSpan.Zero);
    private static readonly StatisticsPeriod March = new(new(2027, 3, 1, 0, 0, 0, TimeSpan.Zero), new(2027, 4, 1, 0, 0, 0, TimeSpan.Zero));

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private DunningStatistics _statistics = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("dunning_stats");
        _engine = EngineServices.Create(_database, new FakeTimeProvider(Now));
        _statistics = _engine.Get<DunningStatistics>();
        var customerId = (await new BillingTestData(_database, Now).CustomerAsync()).Id;
        await new DunningHistoryData(_database, customerId)
            .Case(100m, "USD", "insufficient_funds", At(1, 10), [(At(3, 9), false), (At(5, 9), true)])
            .Case(50m, "USD", "do_not_honor", At(2, 12), [(At(4, 9), true)])
            .Case(30m, "EUR", "insufficient_funds", At(3, 8), [(At(5, 9), false), (At(8, 14), false)], exhaustedAt: At(10, 8))
            .Case(20m, "USD", "stolen_card", At(4, 0), [])
            .Case(10m, "USD", "insufficient_funds", At(6, 0), [], nextAttemptAt: At(8, 0))
            .Case(40m, "USD", "try_again_later", At(7, 6), [(At(7, 18), true)])
            .Case(999m, "USD", "insufficient_funds", new(2027, 2, 10, 0, 0, 0, TimeSpan.Zero), [(new(2027, 2, 11, 0, 0, 0, TimeSpan.Zero), true)])
            .SaveAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    private static DateTimeOffset At(int day, int hour) => new(2027, 3, day, hour, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_summary_counts_the_cohorts_outcomes_and_times_to_recovery()
    {
        var summary = (await _statistics.ReportAsync(March, Ct)).Summary;

        Assert.Equal((6L, 3L, 1L, 0L, 2L), (summary.Cases, summary.Recovered, summary.Exhausted, summary.Closed, summary.Open));
        Assert.Equal(0.75, summary.RecoveryRate!.Value, 9);
        // (3.958333 + 1.875 + 0.5) / 3 days; the median is B's.
        Assert.Equal((95.0 / 24 + 1.875 + 0.5) / 3, summary.MeanDaysToRecovery!.Value, 9);
        Assert.Equal(1.875, summary.MedianDaysToRecovery!.Value, 9);
    }

    [Fact]
    public async Task Retries_are_counted_by_their_number_within_the_case()
    {
        var byNumber = (await _statistics.ReportAsync(March, Ct)).ByRetryNumber;

        Assert.Equal([new RetryOutcomeByNumber(1, 4, 2, 0.5), new RetryOutcomeByNumber(2, 2, 1, 0.5)], byNumber);
    }

    [Fact]
    public async Task Cases_are_counted_by_the_decline_that_opened_them()
    {
        var byCode = (await _statistics.ReportAsync(March, Ct)).ByDeclineCode;

        Assert.Equal(
        [
            new RecoveryByDeclineCode("insufficient_funds", 3, 1, 1, 0.5),
            new RecoveryByDeclineCode("do_not_honor", 1, 1, 0, 1.0),
            new RecoveryByDeclineCode("stolen_card", 1, 0, 0, null),
            new RecoveryByDeclineCode("try_again_later", 1, 1, 0, 1.0),
        ], byCode);
    }

    [Fact]
    public async Task Revenue_recovered_and_written_off_is_per_currency()
    {
        var revenue = (await _statistics.ReportAsync(March, Ct)).Revenue;

        Assert.Equal([new DunningRevenue("EUR", 0m, 30m), new DunningRevenue("USD", 190m, 0m)], revenue);
    }

    [Fact]
    public async Task The_queue_shows_the_open_cases_now_and_the_oldest_waits()
    {
        var queue = await _statistics.QueueAsync(Ct);

        Assert.Equal(new DunningQueueDepth(2, 1, 0, 1, 1, At(4, 0), At(8, 0)), queue);
    }

    [Fact]
    public async Task The_report_reads_the_same_from_folded_case_facts_and_sees_a_case_changed_after_the_fold()
    {
        var facts = _engine.Get<DunningCaseFactsRecorder>();
        var unfolded = await _statistics.ReportAsync(March, Ct);

        Assert.Equal(7, await facts.FoldAsync(Ct));
        Assert.Equal(0, await facts.FoldAsync(Ct));
        AssertSameReport(unfolded, await _statistics.ReportAsync(March, Ct));

        // E (10 USD, retry pending) is given up on: the change is queued by the update itself and read before any fold.
        await using (var connection = await _database.DataSource.OpenConnectionAsync(Ct))
        {
            await using var update = connection.CreateCommand();
            update.CommandText = "update dunning_cases set status = 'exhausted', closed_at = @closedAt, next_attempt_at = null where amount = 10";
            update.Parameters.AddWithValue("closedAt", At(9, 0));
            Assert.Equal(1, await update.ExecuteNonQueryAsync(Ct));
        }
        var changed = await _statistics.ReportAsync(March, Ct);
        Assert.Equal((6L, 3L, 2L, 1L), (changed.Summary.Cases, changed.Summary.Recovered, changed.Summary.Exhausted, changed.Summary.Open));
        Assert.Equal(new DunningRevenue("USD", 190m, 10m), changed.Revenue.Single(r => r.Currency == "USD"));
        Assert.Equal(1, await facts.FoldAsync(Ct));
        AssertSameReport(changed, await _statistics.ReportAsync(March, Ct));
    }

    private static void AssertSameReport(RecoveryReport expected, RecoveryReport actual)
    {
        // Means are float sums, whose last bits depend on the order the rows come in.
        Assert.Equal(expected.Summary with { MeanDaysToRecovery = null }, actual.Summary with { MeanDaysToRecovery = null });
        Assert.Equal(expected.Summary.MeanDaysToRecovery!.Value, actual.Summary.MeanDaysToRecovery!.Value, 9);
        Assert.Equal(expected.ByRetryNumber, actual.ByRetryNumber);
        Assert.Equal(expected.ByDeclineCode, actual.ByDeclineCode);
        Assert.Equal(expected.ByDaysToRecovery, actual.ByDaysToRecovery);
        Assert.Equal(expected.Revenue, actual.Revenue);
    }
}
