using System.Text.Json;
using BillingConsole.Engine.Dunning.Simulation;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Engine.Dunning;

[PureTests]
public sealed class DunningSimulatorTests
{
    private static DunningPopulation Shipped(string name) =>
        DunningPopulation.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "populations", $"{name}.json")));

    [Theory]
    [InlineData("consumer")]
    [InlineData("smb")]
    public void On_the_shipped_populations_the_statistical_mode_recovers_more_revenue_than_every_fixed_schedule(string population)
    {
        var report = new DunningSimulator().Run(Shipped(population), new SimulationOptions());

        TestContext.Current.TestOutputHelper?.WriteLine(JsonSerializer.Serialize(report));
        Assert.Equal(5, report.Budget);
        var statistical = Assert.Single(report.Strategies, s => s.Strategy == "statistical");
        var fixedSchedules = report.Strategies.Where(s => s.Strategy.StartsWith("fixed ", StringComparison.Ordinal)).ToList();
        Assert.Equal(["fixed 1,3,5,7", "fixed 1,2,4,8,16", "fixed 3,7,14,21"], fixedSchedules.Select(s => s.Strategy));
        Assert.All(fixedSchedules, s => Assert.True(statistical.RecoveredRevenue > s.RecoveredRevenue,
            $"{population}: statistical recovered {statistical.RecoveredRevenue}, {s.Strategy} {s.RecoveredRevenue}."));
        Assert.All(report.Strategies, s => Assert.True(s.AttemptsUsed <= report.EvaluatedCases * report.Budget));
    }

    [Fact]
    public void The_same_seed_gives_the_same_report()
    {
        var population = Shipped("smb") with { Customers = 300 };

        var first = JsonSerializer.Serialize(new DunningSimulator().Run(population, new SimulationOptions { Budget = 3 }));
        var second = JsonSerializer.Serialize(new DunningSimulator().Run(population, new SimulationOptions { Budget = 3 }));
        var otherSeed = JsonSerializer.Serialize(new DunningSimulator().Run(population with { Seed = 1 }, new SimulationOptions { Budget = 3 }));

        Assert.Equal(first, second);
        Assert.NotEqual(first, otherSeed);
    }

    [Fact]
    public void Hard_declines_are_never_recovered_by_retrying()
    {
        var hard = Shipped("consumer").Segments.Single(s => s.DeclineCode == "expired_card");
        var population = Shipped("consumer") with { Customers = 200, Segments = [hard] };

        var report = new DunningSimulator().Run(population, new SimulationOptions());

        Assert.All(report.Strategies, s => Assert.Equal((0, 0), (s.Recovered, s.AttemptsUsed)));
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
}
