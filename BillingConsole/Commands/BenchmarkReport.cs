using System.Globalization;
using BillingConsole.Engine.Billing;
using BillingConsole.Jobs;
using BillingConsole.Persistence;
using Npgsql;

namespace BillingConsole.Commands;

/// <summary>What the benchmarks read from their arguments and print alike: the count asked for, the load, the phases, the COPY reference, the top statements.</summary>
public static class BenchmarkReport
{
    /// <summary>
    /// The engine alone over the configured database, migrated, quiet below warnings: the passes a benchmark times are the
    /// engine's own, with no Hangfire worker beside them. <paramref name="withJobClient"/> adds the jobs' client, which
    /// a billing run's start needs, still without a worker.
    /// </summary>
    public static async Task<IHost> EngineHostAsync(string[] args, bool withJobClient = false)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Hangfire:RunServer"] = "false",
        });
        builder.AddBillingEngine();
        if (withJobClient) builder.AddBillingJobs();
        var host = builder.Build();
        await host.Services.GetRequiredService<DatabaseStartup>().PrepareAsync(null, CancellationToken.None);
        return host;
    }

    /// <summary>True when the database holds no customers; otherwise says so, for the benchmarks that fill an empty database.</summary>
    public static async Task<bool> IsEmptyAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("select exists (select 1 from customers)");
        if (!(bool)(await command.ExecuteScalarAsync())!) return true;
        await Console.Error.WriteLineAsync("The database already holds customers: run the benchmark on an empty database.");
        return false;
    }

    /// <summary>The whole number after <paramref name="option"/>, <paramref name="fallback"/> when absent; null (after saying why) when it is not a positive one.</summary>
    public static int? PositiveCount(string[] args, string option, int fallback)
    {
        var index = Array.IndexOf(args, option);
        if (index < 0) return fallback;
        if (index + 1 < args.Length && int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var count) && count >= 1) return count;
        Console.Error.WriteLine($"{option} needs a positive whole number, e.g. {option} 1000000.");
        return null;
    }

    /// <summary>The option's value, or null when it is absent.</summary>
    public static string? Text(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    /// <summary>The value below which <paramref name="share"/> of the sorted timings fall (0.95: the 95th percentile).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double share) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(share * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>The 1-minute load average, to print beside a figure taken on a shared machine.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";

    /// <summary>One line per phase that took any time: seconds, share of the workers' time, and <paramref name="items"/> per second of it.</summary>
    public static string Phases(IReadOnlyDictionary<BillingRunPhase, TimeSpan> phases, long items, string unit)
    {
        var workerSeconds = phases.Values.Sum(t => t.TotalSeconds);
        return string.Join(Environment.NewLine, phases.Where(p => p.Value > TimeSpan.Zero).Select(p => string.Create(CultureInfo.InvariantCulture,
            $"  {p.Key,-15} {p.Value.TotalSeconds,7:F1} s {100 * p.Value.TotalSeconds / Math.Max(workerSeconds, 1e-9),5:F1} %  {items / Math.Max(p.Value.TotalSeconds, 1e-9),12:N0} {unit}/s")));
    }

    /// <summary>The COPY reference's lines and the ratio of a run of <paramref name="seconds"/> to it.</summary>
    public static string Copy(CopyReference.Result copy, double seconds, string shaped) => string.Create(CultureInfo.InvariantCulture, $"""
        COPY reference: the same {copy.Rows:N0} rows by binary COPY into tables shaped like {shaped} (same indexes and ids): {copy.Elapsed.TotalSeconds:F1} s = {copy.Rows / copy.Elapsed.TotalSeconds:N0} rows/s
          {string.Join(", ", copy.Tables.Select(t => $"{t.Table} {t.Rows:N0} in {t.Elapsed.TotalSeconds:F1} s"))}
          ratio run / COPY: {seconds / copy.Elapsed.TotalSeconds:F1}
        """);

    /// <summary>The top statements by total time, or a sentence saying pg_stat_statements is not loaded.</summary>
    public static string Statements(bool loaded, IReadOnlyList<StatementStatistics.Statement> top) => loaded
        ? "top statements by total time (pg_stat_statements):" + Environment.NewLine + string.Join(Environment.NewLine, top.Select(t =>
            string.Create(CultureInfo.InvariantCulture, $"  {t.TotalMs / 1000,7:F1} s {t.Calls,9:N0} calls {t.TotalMs / Math.Max(1, t.Calls),7:F2} ms  {t.Query}")))
        : "pg_stat_statements is not loaded on this server (shared_preload_libraries): no statement figures";
}
