using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BillingConsole.Commands;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Commands;

[PureTests]
public sealed class SimulateDunningCommandTests
{
    private static readonly string Consumer = Path.Combine(AppContext.BaseDirectory, "populations", "consumer.json");

    [Fact]
    public async Task Prints_a_table_then_the_figures_of_every_strategy_as_json_on_the_last_line()
    {
        var small = Path.Combine(Path.GetTempPath(), $"population-{Guid.NewGuid():N}.json");
        var population = JsonNode.Parse(await File.ReadAllTextAsync(Consumer, TestContext.Current.CancellationToken))!;
        population["customers"] = 300;
        await File.WriteAllTextAsync(small, population.ToJsonString(), TestContext.Current.CancellationToken);
        var (output, error) = (new StringWriter(), new StringWriter());
        try
        {
            var code = await SimulateDunningCommand.RunAsync(
                ["simulate-dunning", "--population", small, "--budget", "4", "--seeds", "3", "--fixed", "1,3,5,7", "--fixed", "2,4"], output, error);

            Assert.Equal(0, code);
            Assert.Equal(string.Empty, error.ToString());
            var lines = output.ToString().TrimEnd().Split('\n');
            Assert.Matches(@"^Simulated in \d+\.\d s\.", lines[^2]);
            using var figures = JsonDocument.Parse(lines[^1]);
            Assert.Equal(4, figures.RootElement.GetProperty("budget").GetInt32());
            Assert.Equal([20250101, 20250102, 20250103], figures.RootElement.GetProperty("seeds").EnumerateArray().Select(s => s.GetInt32()));
            var strategies = figures.RootElement.GetProperty("strategies").EnumerateArray().ToList();
            Assert.Equal(["fixed 1,3,5,7", "fixed 2,4", "fixed 1,3,5,7 stretched to 4 at HH:00", "fixed 2,4 stretched to 4 at HH:00", "statistical", "oracle"],
                strategies.Select(s => Regex.Replace(s.GetProperty("strategy").GetString()!, @" at \d\d:00$", " at HH:00")));
            Assert.All(strategies, s =>
            {
                foreach (var figure in new[] { "recovered", "recoveryRate", "recoveredRevenue", "recoveredRevenueRange", "attemptsUsed", "meanDaysToRecovery", "recoveredByCard", "withoutNotifications" })
                    Assert.True(s.TryGetProperty(figure, out _), figure);
            });
        }
        finally
        {
            File.Delete(small);
        }
    }

    [Theory]
    [InlineData("--budget", "4")]
    [InlineData("--population", "/nonexistent/population.json")]
    [InlineData("--population", "POPULATION", "--fixed", "1,x")]
    [InlineData("--population", "POPULATION", "--budget", "40")]
    public async Task Wrong_arguments_or_files_exit_with_2_and_say_why(params string[] args)
    {
        var error = new StringWriter();

        var code = await SimulateDunningCommand.RunAsync(args.Select(a => a == "POPULATION" ? Consumer : a).ToArray(), new StringWriter(), error);

        Assert.Equal(2, code);
        Assert.NotEqual(string.Empty, error.ToString().Trim());
    }
}
