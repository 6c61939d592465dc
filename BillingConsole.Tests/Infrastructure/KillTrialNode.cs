namespace BillingConsole.Tests.Infrastructure;

/// <summary>What a kill trial's console process is started with: a test database, the test Redis and quick Hangfire polling.</summary>
public static class KillTrialNode
{
    public static Dictionary<string, string?> Environment(MigratedDatabase database, IReadOnlyDictionary<string, string?> settings) =>
        Environment(database.ConnectionString, settings);

    /// <summary>The same on any connection string (through PgBouncer, for one).</summary>
    public static Dictionary<string, string?> Environment(string connectionString, IReadOnlyDictionary<string, string?> settings)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Authentication__DevelopmentSignIn"] = "true",
            ["ConnectionStrings__Billing"] = connectionString,
            ["Redis__Configuration"] = TestServers.RedisConfiguration,
            ["Logging__LogLevel__Default"] = "Warning",
            ["Hangfire__PollingIntervalSeconds"] = "1",
            // A killed node's job comes back to the queue after this long.
            ["Hangfire__InvisibilityTimeoutSeconds"] = "8",
        };
        foreach (var (key, value) in settings) environment[key] = value;
        return environment;
    }

    /// <summary>Printed on the runner's output as well, so that the test command shows what was tried and found.</summary>
    public static void Report(string trial, string line)
    {
        Console.WriteLine($"[{trial}] {line}");
        TestContext.Current.TestOutputHelper?.WriteLine(line);
    }
}

/// <summary>Starts a trial's nodes and keeps how long each took to answer, for the trial's report.</summary>
public sealed class NodeStarts
{
    private readonly List<TimeSpan> _times = [];

    public async Task<ConsoleProcess> StartAsync(IDictionary<string, string?> environment)
    {
        var node = await ConsoleProcess.StartAsync(environment);
        _times.Add(node.StartupTime);
        return node;
    }

    public string Summary()
    {
        var seconds = _times.Select(t => t.TotalSeconds).Order().ToList();
        return $"node start-up over {seconds.Count} starts: median {seconds[seconds.Count / 2]:F1} s, fastest {seconds[0]:F1} s, slowest {seconds[^1]:F1} s";
    }
}
