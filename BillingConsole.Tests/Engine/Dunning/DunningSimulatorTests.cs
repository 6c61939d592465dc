using System.Text.Json;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Dunning.Simulation;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Engine.Dunning;

[PureTests]
public sealed class DunningSimulatorTests
{
    private static DunningPopulation Shipped(string name) =>
        DunningPopulation.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "populations", $"{name}.json")));

    public static TheoryData<string> ShippedPopulations() =>
        new(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "populations"), "*.json").Select(f => Path.GetFileNameWithoutExtension(f)).Order());

    [Theory]
    [InlineData("consumer")]
    [InlineData("smb")]
    public void On_the_first_shipped_populations_the_statistical_mode_recovers_more_revenue_than_every_fixed_schedule_as_production_runs_it(string population)
    {
        var report = new DunningSimulator().Run(Shipped(population) with { Customers = 4000 }, new SimulationOptions { Seeds = 2 });

        TestContext.Current.TestOutputHelper?.WriteLine(JsonSerializer.Serialize(report));
        Assert.Equal(5, report.Budget);
        var statistical = Assert.Single(report.Strategies, s => s.Strategy == "statistical");
        var fixedSchedules = report.Strategies.Where(s => s.Strategy.StartsWith("fixed ", StringComparison.Ordinal) && !s.Strategy.Contains(" at ")).ToList();
        Assert.Equal(["fixed 1,3,5,7", "fixed 1,2,4,8,16", "fixed 3,7,14,21"], fixedSchedules.Select(s => s.Strategy));
        Assert.Equal(3, report.Strategies.Count(s => s.Strategy.StartsWith("fixed ", StringComparison.Ordinal) && s.Strategy.Contains(" stretched to 5 at ")));
        Assert.All(fixedSchedules, s => Assert.True(statistical.RecoveredRevenue > s.RecoveredRevenue,
            $"{population}: statistical recovered {statistical.RecoveredRevenue}, {s.Strategy} {s.RecoveredRevenue}."));
        Assert.All(report.Strategies, s => Assert.True(s.AttemptsUsed <= report.EvaluatedCases * report.Budget));
    }

    /// <summary>
    /// The oracle maximises, case by case, exactly the expected revenue reported, over every plan the other strategies can
    /// make: no strategy may beat it on any shipped population, at any budget, for any seed.
    /// </summary>
    [Theory]
    [MemberData(nameof(ShippedPopulations))]
    public void No_strategy_recovers_more_than_the_oracle(string population)
    {
        foreach (var budget in new[] { 3, 5, 8 })
        {
            var report = new DunningSimulator().Run(Shipped(population) with { Customers = 1500 }, new SimulationOptions { Budget = budget, Seeds = 2 });

            var oracle = Assert.Single(report.Strategies, s => s.Strategy == "oracle");
            Assert.All(report.Strategies, s =>
            {
                Assert.True(s.RecoveredRevenue <= oracle.RecoveredRevenue + 0.01m,
                    $"{population}, budget {budget}: {s.Strategy} {s.RecoveredRevenue} beats the oracle's {oracle.RecoveredRevenue}.");
                Assert.True(s.RevenueMax <= oracle.RevenueMax + 0.01m && s.RevenueMin <= oracle.RevenueMin + 0.01m, $"{population}, budget {budget}: {s.Strategy} per seed.");
            });
        }
    }

    [Theory]
    [MemberData(nameof(ShippedPopulations))]
    public void Every_shipped_population_loads_and_is_valid(string population) =>
        Assert.Empty(Shipped(population).Validate());

    [Theory]
    [InlineData(new[] { 1, 3, 5, 7 }, 8, 21, new[] { 1, 3, 5, 7, 9, 11, 13, 15 })]
    [InlineData(new[] { 1, 2, 4, 8, 16 }, 8, 21, new[] { 1, 2, 4, 6, 8, 10, 12, 16 })]
    [InlineData(new[] { 3, 7, 14, 21 }, 3, 21, new[] { 3, 7, 14 })]
    [InlineData(new[] { 1, 3 }, 15, 5, new[] { 1, 2, 3 })]
    public void A_fixed_schedule_is_stretched_at_its_last_interval_then_into_its_widest_gaps_within_the_window(int[] days, int budget, int window, int[] expected) =>
        Assert.Equal(expected, DunningSimulator.Stretch(days, budget, window));

    [Fact]
    public void The_same_seed_gives_the_same_report()
    {
        var population = Shipped("smb") with { Customers = 300 };

        var first = JsonSerializer.Serialize(new DunningSimulator().Run(population, new SimulationOptions { Budget = 3 }));
        var second = JsonSerializer.Serialize(new DunningSimulator().Run(population, new SimulationOptions { Budget = 3 }));
        var otherSeed = JsonSerializer.Serialize(new DunningSimulator().Run(population with { Seed = 1 }, new SimulationOptions { Budget = 3 }));
        var oneSeed = new DunningSimulator().Run(population, new SimulationOptions { Budget = 3, Seeds = 1 });

        Assert.Equal(first, second);
        Assert.NotEqual(first, otherSeed);
        Assert.Equal([7331], oneSeed.Seeds);
        Assert.All(oneSeed.Strategies, s => Assert.Equal((s.RecoveredRevenue, s.RecoveredRevenue), (s.RevenueMin, s.RevenueMax)));
    }

    [Fact]
    public void Hard_declines_are_never_retried_and_recover_only_by_a_new_card()
    {
        var hard = Shipped("consumer").Segments.Single(s => s.DeclineCode == "expired_card");
        var population = Shipped("consumer") with { Customers = 400, Segments = [hard with { FixCardPerDay = 0.01, FixCardPerDayNotified = 0.15 }] };

        var report = new DunningSimulator().Run(population, new SimulationOptions());

        Assert.All(report.Strategies, s =>
        {
            Assert.Equal(0, s.AttemptsUsed);
            Assert.Equal(s.Recovered, s.RecoveredByCard);
            Assert.Equal(s.WithoutNotifications.Recovered, s.WithoutNotifications.RecoveredByCard);
            Assert.True(s.Recovered > s.WithoutNotifications.Recovered + 10,
                $"{s.Strategy}: {s.Recovered} new cards with the policy's emails, {s.WithoutNotifications.Recovered} without.");
        });
        // Every strategy waits for the same customers: with retries out of the picture they recover the same cases.
        Assert.Single(report.Strategies.Select(s => (s.Recovered, s.RecoveredRevenue)).Distinct());
    }

    [Fact]
    public void A_new_card_recovers_the_case_at_once_and_no_retry_follows_it()
    {
        // Nearly every customer attaches a card on the first day, mostly before the 12 hours of grace are over.
        var eager = Shipped("consumer").Segments[0] with { FixCardPerDay = 0.999, FixCardPerDayNotified = 0.999 };
        var population = Shipped("consumer") with { Customers = 400, Segments = [eager] };

        var report = new DunningSimulator().Run(population, new SimulationOptions());

        Assert.All(report.Strategies, s =>
        {
            Assert.InRange(s.RecoveredByCard, 0.95 * report.EvaluatedCases, report.EvaluatedCases);
            Assert.InRange(s.AttemptsUsed, 0, 0.1 * report.EvaluatedCases);
            Assert.InRange(s.MeanDaysToRecovery!.Value, 0, 0.5);
        });
    }

    [Fact]
    public void Format_2_reads_zones_failure_hours_payday_rules_payday_hours_and_a_piecewise_recovery_curve()
    {
        var population = DunningPopulation.Parse("""
            { "version": 2, "customers": 10, "months": 2,
              "amount": { "min": 100, "max": 200, "currency": "EUR" },
              "segments": [{
                "declineCode": "insufficient_funds", "baseSuccess": 0.2,
                "timeZones": [{ "zone": "Europe/Berlin", "weight": 1 }],
                "failureHours": { "clock": "utc", "weights": [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
                "paydays": [15, "last business day", "weekly friday"], "paydayBoost": 2, "paydayWindowDays": 1,
                "paydayHour": [1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
                "decay": [{ "toDay": 2, "perDay": 1.0 }, { "perDay": 0.5 }] }] }
            """);
        Assert.Empty(population.Validate());
        Assert.Equal("EUR", population.Currency);
        var segment = population.Segments[0];
        double P(int month, int day, int hour, double days) =>
            segment.Probability(new RecoveryQuery("insufficient_funds", 1, days, new DateTime(2025, month, day, hour, 0, 0)));

        Assert.Equal(0.2, P(11, 4, 9, 0), 9);            // a Tuesday, no payday
        Assert.Equal(0.4, P(11, 28, 10, 0), 9);          // Friday the 28th: last business day of November, and a Friday
        Assert.Equal(1.0, P(11, 28, 9, 0), 9);           // its payday hour: 0.2 × 2 × 3, held at 1
        Assert.Equal(0.2, P(11, 29, 10, 0), 9);          // Saturday: the window is one day
        Assert.Equal(0.4, P(10, 31, 10, 0), 9);          // Friday 31 October, last business day
        Assert.Equal(0.2, P(11, 4, 9, 2.9), 9);          // flat to day 2
        Assert.Equal(0.05, P(11, 4, 9, 4.5), 9);         // then halved each whole day
        var firstBusinessDay = new Payday("first business day");
        Assert.True(firstBusinessDay.Falls(new DateOnly(2025, 11, 3)));
        Assert.False(firstBusinessDay.Falls(new DateOnly(2025, 11, 1)));
        var biweekly = new Payday("biweekly friday");
        Assert.True(biweekly.Falls(new DateOnly(2024, 1, 5)) && !biweekly.Falls(new DateOnly(2024, 1, 12)) && biweekly.Falls(new DateOnly(2024, 1, 19)));
    }

    [Fact]
    public void Failures_happen_at_the_population_hours_and_retries_on_the_customers_clock()
    {
        var population = Shipped("one-hour") with { Customers = 600 };

        var report = new DunningSimulator().Run(population, new SimulationOptions { Seeds = 1, FixedSchedules = [[1, 2, 3]] });

        // Failing at 02:00 UTC, the production fixed schedule retries at 02:00 UTC (night in America); at its best local hour it does better.
        var production = Assert.Single(report.Strategies, s => s.Strategy == "fixed 1,2,3");
        var bestHour = Assert.Single(report.Strategies, s => s.Strategy.StartsWith("fixed 1,2,3 stretched to 3 at ", StringComparison.Ordinal));
        Assert.True(bestHour.RecoveredRevenue > production.RecoveredRevenue, $"{bestHour.Strategy} {bestHour.RecoveredRevenue}, {production.Strategy} {production.RecoveredRevenue}.");
    }

    [Fact]
    public void Month_by_month_the_statistical_mode_learns_the_hours_a_one_hour_history_cannot_show()
    {
        var report = new DunningSimulator().Run(Shipped("one-hour") with { Customers = 4000 }, new SimulationOptions { Seeds = 2 });

        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(", ", report.LearningCurve));
        Assert.Equal(6, report.LearningCurve.Count);
        Assert.True(report.LearningCurve[^1] > report.LearningCurve[0] + 0.02, $"Learning curve {string.Join(", ", report.LearningCurve)}.");
    }

    [Fact]
    public void A_broken_population_is_refused_with_every_problem_named()
    {
        var population = Shipped("smb") with { Months = 1, Segments = [Shipped("smb").Segments[0] with { Weekday = [1, 1], BaseSuccess = 2 }] };

        var error = Assert.Throws<ArgumentException>(() => new DunningSimulator().Run(population, new SimulationOptions()));

        Assert.Contains("months must be at least 2", error.Message);
        Assert.Contains("segments[0]: baseSuccess must be between 0 and 1.", error.Message);
        Assert.Contains("segments[0]: weekday needs 7 multipliers", error.Message);
    }

    [Fact]
    public void A_broken_format_2_segment_is_refused_with_every_problem_named()
    {
        var segment = Shipped("one-hour").Segments[0] with
        {
            TimeZones = [new ZoneShare("Mars/Olympus", 1)],
            FailureHours = new FailureHours("moon", [1, 2]),
            Paydays = [new Payday("fortnightly"), new Payday("32")],
            Decay = [new DecayPiece(null, 0.9), new DecayPiece(3, 0.8)],
            Amount = new AmountRange(10, 20, "EUR"),
        };
        var population = Shipped("one-hour") with { Segments = [segment, Shipped("one-hour").Segments[1]] };

        var error = Assert.Throws<ArgumentException>(() => new DunningSimulator().Run(population, new SimulationOptions()));

        Assert.Contains("segments[0]: timeZones need known IANA names", error.Message);
        Assert.Contains("segments[0]: failureHours needs clock", error.Message);
        Assert.Contains("segments[0]: paydays are days of the month", error.Message);
        Assert.Contains("segments[0]: decay needs pieces", error.Message);
        Assert.Contains("Every segment must owe the same currency", error.Message);
    }
}
