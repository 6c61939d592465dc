using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BillingConsole.Engine.Dunning.Simulation;

namespace BillingConsole.Commands;

/// <summary>
/// <c>simulate-dunning --population FILE [--budget N] [--seeds N] [--fixed "1,3,5,7" ...]</c>: replays a synthetic population
/// (see docs/populations/) against the retry scheduler and compares fixed schedules, the statistical mode and an
/// oracle over several seeds. Prints a table and the time taken, then, as the last line, the figures as one JSON object.
/// </summary>
public static class SimulateDunningCommand
{
    public const string Name = "simulate-dunning";

    private const string Usage = "Usage: simulate-dunning --population FILE [--budget N] [--seeds N] [--fixed \"1,3,5,7\" ...]";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.Out, Console.Error);

    /// <returns>0 when the simulation ran, 2 when the arguments or the population file are wrong.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (!TryParse(args, out var file, out var options, out var problem))
        {
            await error.WriteLineAsync($"{problem}{Environment.NewLine}{Usage}");
            return 2;
        }
        SimulationReport report;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var population = DunningPopulation.Parse(await File.ReadAllTextAsync(file));
            report = new DunningSimulator().Run(population, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or ArgumentException)
        {
            await error.WriteLineAsync($"{file}: {e.Message}");
            return 2;
        }
        await WriteAsync(output, Path.GetFileNameWithoutExtension(file), report, Stopwatch.GetElapsedTime(started));
        return 0;
    }

    private static bool TryParse(string[] args, out string file, out SimulationOptions options, out string problem)
    {
        (file, options, problem) = (string.Empty, new SimulationOptions(), string.Empty);
        var schedules = new List<IReadOnlyList<int>>();
        int? budget = null;
        var seeds = new SimulationOptions().Seeds;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case Name:
                    continue;
                case "--population" when value is not null:
                    file = value;
                    break;
                case "--budget" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n):
                    budget = n;
                    break;
                case "--seeds" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n):
                    seeds = n;
                    break;
                case "--fixed" when ParseDays(value) is { } days:
                    schedules.Add(days);
                    break;
                default:
                    problem = $"Cannot use '{args[i]}'{(value is null ? string.Empty : $" '{value}'")}.";
                    return false;
            }
            i++;
        }
        if (file.Length == 0)
        {
            problem = "Give the population file with --population.";
            return false;
        }
        options = new SimulationOptions { Budget = budget, Seeds = seeds, FixedSchedules = schedules.Count > 0 ? schedules : SimulationOptions.DefaultSchedules };
        return true;
    }

    private static int[]? ParseDays(string? value)
    {
        var parts = value?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
        var days = parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : -1).ToArray();
        return days.Length > 0 && days.All(d => d > 0) ? days : null;
    }

    private static async Task WriteAsync(TextWriter output, string population, SimulationReport report, TimeSpan elapsed)
    {
        var culture = CultureInfo.InvariantCulture;
        await output.WriteLineAsync(string.Create(culture,
            $"{population}: {report.EvaluatedCases} failed payments ({report.AmountDue:0.00} {report.Currency} due) evaluated, budget {report.Budget} retries, seeds {report.Seeds[0]}–{report.Seeds[^1]} (figures are their mean); the statistical mode learned from {report.HistoryObservations} retries of {report.HistoryCases} earlier cases."));
        await output.WriteLineAsync(
            $"{"strategy",-44} {"recovered",9} {"rate",7} {"revenue",12} {"seed range",23} {"attempts",9} {"mean days",9} {"by card",8} {"without emails",14}");
        foreach (var s in report.Strategies)
            await output.WriteLineAsync(string.Create(culture,
                $"{s.Strategy,-44} {s.Recovered,9:0.0} {s.RecoveryRate,7:P1} {s.RecoveredRevenue,12:0.00} {$"{s.RevenueMin:0}–{s.RevenueMax:0}",23} {s.AttemptsUsed,9:0} {s.MeanDaysToRecovery,9:0.00} {s.RecoveredByCard,8:0.0} {s.WithoutNotifications.RecoveredRevenue,14:0.00}"));
        await output.WriteLineAsync(string.Create(culture,
            $"Learning curve (statistical / oracle, month by month): {string.Join(", ", report.LearningCurve.Select(r => r.ToString("0.000", culture)))}"));
        await output.WriteLineAsync(string.Create(culture, $"Simulated in {elapsed.TotalSeconds:0.0} s."));
        var summary = new
        {
            population,
            report.Seed,
            report.Seeds,
            report.Budget,
            report.Currency,
            report.EvaluatedCases,
            report.AmountDue,
            report.HistoryObservations,
            report.LearningCurve,
            strategies = report.Strategies.Select(s => new
            {
                s.Strategy,
                s.Recovered,
                RecoveryRate = Math.Round(s.RecoveryRate, 4),
                s.RecoveredRevenue,
                RecoveredRevenueRange = new[] { s.RevenueMin, s.RevenueMax },
                s.AttemptsUsed,
                MeanDaysToRecovery = s.MeanDaysToRecovery is { } days ? Math.Round(days, 2) : (double?)null,
                s.RecoveredByCard,
                s.WithoutNotifications,
            }),
        };
        await output.WriteLineAsync(JsonSerializer.Serialize(summary, Json));
    }
}
