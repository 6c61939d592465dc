using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Dunning;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Engine.Dunning;

[PureTests]
public sealed class RecoveryStatisticsTests
{
    private static readonly DateTimeOffset Monday = new(2025, 1, 6, 0, 0, 0, TimeSpan.Zero);

    private static RecoveryQuery At(DateTime local, string code = DeclineCodes.InsufficientFunds, int attempt = 1, double days = 1) =>
        new(code, attempt, days, local);

    private static double Multiplier(IRecoveryModel model, RecoveryQuery query, string description) =>
        Assert.Single(model.Explain(query), f => f.Description == description).Multiplier;

    [Fact]
    public void A_new_install_starts_from_the_written_down_priors()
    {
        var priors = RecoveryStatistics.Priors;
        var tuesday10th = new DateTime(2025, 6, 10, 11, 0, 0);

        Assert.Equal(0, priors.ObservedAttempts);
        Assert.Equal(0.25, priors.BaseRate(DeclineCodes.InsufficientFunds));
        Assert.Equal(0.15, priors.BaseRate(DeclineCodes.DoNotHonor));
        Assert.Equal(0.35, priors.BaseRate(DeclineCodes.TryAgainLater));
        Assert.Equal(0.15, priors.BaseRate(DeclineCodes.GenericDecline));
        Assert.Equal(0.15, priors.BaseRate("some_new_code"));
        Assert.Equal(0.03, priors.DecayPerDay(DeclineCodes.InsufficientFunds));
        // Every hour of a month, at any point of the window, stays a plausible chance.
        var month = Enumerable.Range(0, 30 * 24).Select(h => new DateTime(2025, 6, 1).AddHours(h));
        Assert.All(month, local => Assert.InRange(priors.Probability(At(local, days: (local.Day - 1) % 21)), 0.05, 0.5));
        // Paydays, early mornings and working days do better; the effects are mild.
        Assert.True(priors.Probability(At(new DateTime(2025, 6, 16, 11, 0, 0))) > priors.Probability(At(tuesday10th)));
        Assert.True(priors.Probability(At(new DateTime(2025, 6, 10, 6, 0, 0))) > priors.Probability(At(new DateTime(2025, 6, 10, 2, 0, 0))));
        Assert.True(priors.Probability(At(tuesday10th)) > priors.Probability(At(new DateTime(2025, 6, 8, 11, 0, 0))));
        Assert.True(priors.Probability(At(tuesday10th, days: 10)) < priors.Probability(At(tuesday10th, days: 1)));
    }

    [Fact]
    public void A_level_seen_twice_barely_moves_from_its_prior()
    {
        // Two retries on a Tuesday, both recovered; two on a Wednesday, both failed.
        var model = RecoveryStatistics.FromObservations(
        [
            Observation(Monday.AddDays(1).AddHours(10), true),
            Observation(Monday.AddDays(8).AddHours(10), true),
            Observation(Monday.AddDays(2).AddHours(10), false),
            Observation(Monday.AddDays(9).AddHours(10), false),
        ]);
        var query = At(new DateTime(2025, 2, 4, 10, 0, 0));

        Assert.InRange(Multiplier(model, query, "Tuesday"), 1.05 * 0.92, 1.05 * 1.12);
        Assert.InRange(Multiplier(model, query with { LocalTime = query.LocalTime.AddDays(1) }, "Wednesday"), 1.05 * 0.9, 1.05 * 1.08);
        Assert.InRange(model.BaseRate(DeclineCodes.InsufficientFunds), 0.22, 0.30);
    }

    [Fact]
    public void A_level_seen_ten_thousand_times_follows_the_data()
    {
        // 10,000 retries on each weekday, spread over months and hours: Tuesdays recover 40%, other days 20%.
        var observations = Enumerable.Range(0, 7 * 10_000).Select(i =>
        {
            var (weekday, n) = (i % 7, i / 7);
            var at = Monday.AddDays(weekday + 7 * (n % 40)).AddHours(n % 24);
            var rate = weekday == 1 ? 0.4 : 0.2;
            return Observation(at, n / 40 % 10 < rate * 10);
        });

        var model = RecoveryStatistics.FromObservations(observations);
        var tuesday = At(new DateTime(2025, 2, 4, 10, 0, 0));
        var wednesday = tuesday with { LocalTime = tuesday.LocalTime.AddDays(1) };

        Assert.Equal(70_000, model.ObservedAttempts);
        Assert.InRange(Multiplier(model, tuesday, "Tuesday") / Multiplier(model, wednesday, "Wednesday"), 1.9, 2.1);
    }

    [Fact]
    public void Aggregates_from_SQL_and_raw_observations_give_the_same_model()
    {
        var observations = Enumerable.Range(0, 2_000).Select(i =>
            Observation(Monday.AddHours(7 * i), i % 3 == 0, code: i % 2 == 0 ? DeclineCodes.InsufficientFunds : DeclineCodes.DoNotHonor,
                attempt: 1 + i % 4, daysAfterFailure: 1 + i % 9)).ToList();
        var aggregates = observations
            .GroupBy(o => (o.DeclineCode, o.AttemptNumber, Days: (int)(o.AttemptedAt - o.FirstFailureAt).TotalDays, o.AttemptedAt.DayOfWeek,
                o.AttemptedAt.Hour, o.AttemptedAt.Day, Last: o.AttemptedAt.Day == DateTime.DaysInMonth(o.AttemptedAt.Year, o.AttemptedAt.Month)))
            .Select(g => new AttemptAggregate(g.Key.DeclineCode, g.Key.AttemptNumber, g.Key.Days, g.Key.DayOfWeek, g.Key.Hour, g.Key.Day,
                g.Key.Last, g.Count(), g.Count(o => o.Succeeded)));

        var fromObservations = RecoveryStatistics.FromObservations(observations);
        var fromAggregates = RecoveryStatistics.FromAggregates(aggregates);

        var queries = Enumerable.Range(0, 200).Select(h => At(new DateTime(2025, 3, 1).AddHours(5 * h), attempt: 1 + h % 5, days: h % 20));
        Assert.All(queries, q => Assert.Equal(fromObservations.Probability(q), fromAggregates.Probability(q), 9));
    }

    [Fact]
    public void The_decay_is_learned_from_the_days_since_the_failure()
    {
        // Success falls by a tenth a day; retries on days 1 to 14, evenly.
        var observations = Enumerable.Range(0, 40_000).Select(i =>
        {
            var day = 1 + i % 14;
            var rate = 0.4 * Math.Pow(0.9, day);
            return Observation(Monday.AddDays(i / 14 % 60).AddHours(i % 24), i / 14 % 1000 < rate * 1000, daysAfterFailure: day);
        });

        var model = RecoveryStatistics.FromObservations(observations);

        Assert.InRange(Math.Exp(-model.DecayPerDay(DeclineCodes.InsufficientFunds)), 0.88, 0.92);
    }

    private static AttemptObservation Observation(DateTimeOffset at, bool succeeded, string code = DeclineCodes.InsufficientFunds,
        int attempt = 1, int daysAfterFailure = 1) =>
        new(code, attempt, at.AddDays(-daysAfterFailure), at, succeeded);
}
