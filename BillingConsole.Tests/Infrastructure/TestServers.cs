using System.Diagnostics;
using Npgsql;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL and Redis servers that ./test.sh starts for the run, described by its BILLING_TEST_* variables.
/// Tests may stop and start them to prove what happens when one goes away.
/// </summary>
public static class TestServers
{
    public static string PostgresAdminConnectionString => new NpgsqlConnectionStringBuilder(Require("ConnectionStrings__Billing"))
    {
        Database = "postgres",
        Pooling = false,
    }.ConnectionString;

    public static string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(Require("ConnectionStrings__Billing")) { Database = database }.ConnectionString;

    /// <summary>The run's own database, created by ./test.sh and used by the shared console host.</summary>
    public static string DefaultConnectionString => Require("ConnectionStrings__Billing");

    public static string DatabaseOf(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).Database!;

    public static string RedisConfiguration => Require("Redis__Configuration");

    public static int RedisPort => int.Parse(Require("BILLING_TEST_REDIS_PORT"));

    private static string Require(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : throw NotSet(variable);

    private static InvalidOperationException NotSet(string variable) => PureRun.IsOn
        ? PureRun.NotStarted("PostgreSQL or Redis")
        : new($"{variable} is not set: run the tests through ./test.sh, which starts PostgreSQL and Redis for them.");

    public static async Task StopPostgresAsync() => await PgCtlAsync("stop", "-m", "fast", "-w");

    public static async Task StartPostgresAsync() =>
        await PgCtlAsync("start", "-w", "-l", Require("BILLING_TEST_PG_LOG"));

    private static async Task PgCtlAsync(params string[] arguments)
    {
        var pgCtl = Path.Combine(Require("BILLING_TEST_PG_BIN"), "pg_ctl");
        var runAs = Environment.GetEnvironmentVariable("BILLING_TEST_RUN_AS");
        var all = new List<string> { "-D", Require("BILLING_TEST_PGDATA") };
        all.AddRange(arguments);
        var start = string.IsNullOrEmpty(runAs)
            ? new ProcessStartInfo(pgCtl, all)
            : new ProcessStartInfo("runuser", ["-u", runAs, "--", pgCtl, .. all]);
        await RunAsync(start);
    }

    public static async Task StopRedisAsync() =>
        await RunAsync(new ProcessStartInfo("redis-cli", ["-p", RedisPort.ToString(), "shutdown", "nosave"]), allowFailure: true);

    public static async Task StartRedisAsync()
    {
        var directory = Require("BILLING_TEST_REDIS_DIR");
        await RunAsync(new ProcessStartInfo("redis-server",
        [
            "--bind", "127.0.0.1", "--port", RedisPort.ToString(), "--dir", directory, "--appendonly", "yes",
            "--maxmemory", "256mb", "--maxmemory-policy", "volatile-lru", "--daemonize", "yes", "--pidfile", Path.Combine(directory, "redis.pid"),
            "--logfile", Path.Combine(directory, "redis.log"), "--save", "",
        ]));
    }

    /// <summary>Runs a command to its end; unless <paramref name="allowFailure"/>, a non-zero exit throws with its output.</summary>
    public static async Task RunAsync(ProcessStartInfo start, bool allowFailure = false)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 && !allowFailure)
            throw new InvalidOperationException($"{start.FileName} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): {output}");
    }
}
