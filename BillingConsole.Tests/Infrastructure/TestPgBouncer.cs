using System.Diagnostics;
using Npgsql;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// PgBouncer in transaction pooling mode in front of the run's PostgreSQL, on a free loopback port, started and stopped by
/// scripts/services.sh (start_pgbouncer, stop_pgbouncer) as production's topology starts it.
/// </summary>
public sealed class TestPgBouncer : IAsyncDisposable
{
    private readonly string _directory;

    private TestPgBouncer(string directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary><paramref name="poolSize"/> server connections per database, shared by however many clients connect.</summary>
    public static async Task<TestPgBouncer> StartAsync(int poolSize)
    {
        // Under the temporary folder, which PgBouncer's own user (it refuses to run as root) can always reach.
        var directory = Path.Combine(Path.GetTempPath(), $"billing-pgbouncer-{Guid.NewGuid():N}");
        var port = ConsoleAppHost.FreePort();
        var postgresPort = new NpgsqlConnectionStringBuilder(TestServers.DefaultConnectionString).Port;
        await ServicesAsync($"start_pgbouncer \"$0\" {port} {postgresPort}", directory, ("PGBOUNCER_POOL_SIZE", poolSize.ToString()));
        return new TestPgBouncer(directory, port);
    }

    /// <summary>The connection string of <paramref name="database"/> through PgBouncer, as the README says to write it.</summary>
    public string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(TestServers.ConnectionStringFor(database)) { Port = Port, NoResetOnClose = true }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        await ServicesAsync("stop_pgbouncer \"$0\"", _directory);
        Directory.Delete(_directory, recursive: true);
    }

    private static async Task ServicesAsync(string call, string directory, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("bash", ["-c", $"source scripts/services.sh && {call}", directory])
        {
            WorkingDirectory = BrowserFixture.RepositoryRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"scripts/services.sh {call} failed ({process.ExitCode}): {output}");
    }
}
