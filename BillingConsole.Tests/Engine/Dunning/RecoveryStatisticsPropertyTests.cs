using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Dunning;
using BillingConsole.Tests.Infrastructure;
using FsCheck.Xunit;

namespace BillingConsole.Tests.Engine.Dunning;

/// <summary>
/// Random retry histories, each a few hundred retries at a handful of hours (as a billing run's history is): the estimator's
/// uncertainty only narrows with data, and what it has never seen it leaves to the prior, where exploration looks.
/// </summary>
[PureTests]
public sealed class RecoveryStatisticsPropertyTests
{
    private static readonly DateTimeOffset Start = new(2025, 1, 6, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Retries at the given hours on days from the start, each succeeding with a chance depending on its hour.</summary>
    private static List<AttemptObservation> History(int seed, int count, int[] hours)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var hour = hours[random.Next(hours.Length)];
            var failedAt = Start.AddDays(random.Next(0, 120)).AddHours(hour);
            var attemptedAt = failedAt.AddDays(1 + random.Next(0, 6));
            return new AttemptObservation(DeclineCodes.InsufficientFunds, 1 + random.Next(0, 3), failedAt, attemptedAt, random.NextDouble() < 0.05 + 0.02 * (hour % 5));
        })];
    }

    private static int[] Hours(int seed) => [.. Enumerable.Range(0, 24).OrderBy(h => new Random(seed + h).Next()).Take(1 + Math.Abs(seed) % 3)];

    [Property(MaxTest = 40)]
    public bool More_data_never_widens_an_hours_interval(int seed, byte extra)
    {
        var hours = Hours(seed);
        var before = History(seed, 200, hours);
        var after = before.Concat(History(seed + 1, 1 + extra * 4, hours)).ToList();
        var (small, large) = (RecoveryStatistics.FromObservations(before), RecoveryStatistics.FromObservations(after));

        return Enumerable.Range(0, 24).All(hour =>
        {
            double Relative(RecoveryStatistics model)
            {
                var (low, high) = model.HourInterval(DeclineCodes.InsufficientFunds, hour);
                return (high - low) / (high + low);
            }
            return Relative(large) <= Relative(small) + 1e-12;
        });
    }

    [Property(MaxTest = 40)]
    public bool An_hour_never_observed_keeps_its_prior_and_is_what_exploration_favours(int seed)
    {
        var hours = Hours(seed);
        var model = RecoveryStatistics.FromObservations(History(seed, 300, hours));
        var prior = RecoveryPriors.Default.Hour;
        var unseen = Enumerable.Range(0, 24).Except(hours).ToArray();
        var tuesday = new DateTime(2025, 6, 10);
        double Hour(IRecoveryModel m, int hour) => m.Probability(new RecoveryQuery(DeclineCodes.InsufficientFunds, 1, 2, tuesday.AddHours(hour)));

        // Unseen hours stand to each other as the prior says, and their uncertainty is the prior's.
        var seenInterval = model.HourInterval(DeclineCodes.InsufficientFunds, hours[0]);
        return unseen.All(hour =>
                Math.Abs(Hour(model.Mean, hour) / Hour(model.Mean, unseen[0]) - prior[hour] / prior[unseen[0]]) < 1e-9
                && Math.Abs(RelativeWidth(model.HourInterval(DeclineCodes.InsufficientFunds, hour)) - RelativeWidth(RecoveryStatistics.Priors.HourInterval(DeclineCodes.InsufficientFunds, hour))) < 1e-12
                && RelativeWidth(model.HourInterval(DeclineCodes.InsufficientFunds, hour)) > RelativeWidth(seenInterval)
                // Exploration raises an unseen hour by more than any seen one.
                && Hour(model, hour) / Hour(model.Mean, hour) > hours.Max(seen => Hour(model, seen) / Hour(model.Mean, seen)));
    }

    [Fact]
    public void Without_history_exploration_changes_nothing()
    {
        var query = new RecoveryQuery(DeclineCodes.InsufficientFunds, 2, 3.5, new DateTime(2025, 6, 10, 6, 0, 0));

        Assert.Equal(RecoveryStatistics.Priors.Mean.Probability(query), RecoveryStatistics.Priors.Probability(query), 12);
    }

    private static double RelativeWidth((double Low, double High) interval) => (interval.High - interval.Low) / (interval.High + interval.Low);
}
