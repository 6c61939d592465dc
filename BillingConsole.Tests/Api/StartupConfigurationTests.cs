using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Api;

/// <summary>A configuration mistake stops start-up with one sentence that names the setting, never a stack trace.</summary>
public sealed class StartupConfigurationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task A_missing_connection_string_names_the_setting()
    {
        var (exitCode, _, stderr) = await HostProcess.RunToExitAsync(HostProcess.StartInfo(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Authentication__DevelopmentSignIn"] = "true",
        }), Timeout);

        Assert.NotEqual(0, exitCode);
        AssertOneSentence(stderr, "ConnectionStrings:Billing");
        Assert.Contains("missing", stderr);
    }

    [Fact]
    public async Task An_unreachable_PostgreSQL_names_the_setting_and_the_address()
    {
        var (exitCode, _, stderr) = await HostProcess.RunToExitAsync(HostProcess.StartInfo(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Authentication__DevelopmentSignIn"] = "true",
            ["ConnectionStrings__Billing"] = "Host=127.0.0.1;Port=1;Database=billing;Username=billing;Timeout=3",
            ["Redis__Configuration"] = TestServers.RedisConfiguration,
        }), Timeout);

        Assert.NotEqual(0, exitCode);
        AssertOneSentence(stderr, "ConnectionStrings:Billing");
        Assert.Contains("127.0.0.1:1", stderr);
        Assert.Contains("cannot be reached", stderr);
    }

    [Fact]
    public async Task Development_sign_in_is_refused_outside_Development()
    {
        var (exitCode, _, stderr) = await HostProcess.RunToExitAsync(HostProcess.StartInfo(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Authentication__DevelopmentSignIn"] = "true",
            ["ConnectionStrings__Billing"] = TestServers.DefaultConnectionString,
            ["Redis__Configuration"] = TestServers.RedisConfiguration,
        }), Timeout);

        Assert.NotEqual(0, exitCode);
        AssertOneSentence(stderr, "Authentication:DevelopmentSignIn");
    }

    [Fact]
    public async Task An_invalid_billing_time_zone_names_the_setting()
    {
        var (exitCode, _, stderr) = await HostProcess.RunToExitAsync(HostProcess.StartInfo(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Authentication__DevelopmentSignIn"] = "true",
            ["ConnectionStrings__Billing"] = TestServers.DefaultConnectionString,
            ["Redis__Configuration"] = TestServers.RedisConfiguration,
            ["Hangfire__RunServer"] = "false",
            ["Billing__TimeZone"] = "Mars/Olympus_Mons",
        }), Timeout);

        Assert.NotEqual(0, exitCode);
        AssertOneSentence(stderr, "Billing:TimeZone");
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_secrets_file_others_can_read_is_refused_outside_Development()
    {
        var secrets = Path.Combine(Path.GetTempPath(), $"billing-{Guid.NewGuid():N}.env");
        await File.WriteAllTextAsync(secrets, "Authentication__ClientSecret=s3cr3t\n", TestContext.Current.CancellationToken);
        try
        {
            File.SetUnixFileMode(secrets, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            var (openExit, _, openError) = await RunInProductionAsync(secrets);
            File.SetUnixFileMode(secrets, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var (closedExit, _, closedError) = await RunInProductionAsync(secrets);

            Assert.NotEqual(0, openExit);
            AssertOneSentence(openError, "Secrets:File");
            Assert.Contains($"The secrets file {secrets} (Secrets:File) can be read or changed by other users (mode 644): run 'chmod 600 {secrets}'.", openError);
            // chmod 600 passes this check: start-up goes on to the next problem of this deliberately incomplete configuration.
            Assert.NotEqual(0, closedExit);
            AssertOneSentence(closedError, "Authentication:Authority");
        }
        finally
        {
            File.Delete(secrets);
        }
    }

    [Fact]
    public async Task A_missing_secrets_file_is_refused_outside_Development()
    {
        var (exitCode, _, stderr) = await RunInProductionAsync("/nonexistent/billing.env");

        Assert.NotEqual(0, exitCode);
        AssertOneSentence(stderr, "Secrets:File");
        Assert.Contains("/nonexistent/billing.env", stderr);
    }

    private static Task<(int ExitCode, string StandardOutput, string StandardError)> RunInProductionAsync(string secretsFile) =>
        HostProcess.RunToExitAsync(HostProcess.StartInfo(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Secrets__File"] = secretsFile,
            ["ConnectionStrings__Billing"] = TestServers.DefaultConnectionString,
            ["Redis__Configuration"] = TestServers.RedisConfiguration,
            ["Hangfire__RunServer"] = "false",
        }), Timeout);

    private static void AssertOneSentence(string stderr, string setting)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"Expected one line on stderr, got {lines.Length}:\n{stderr}");
        Assert.Contains(setting, lines[0]);
        Assert.DoesNotMatch(@"\bat [\w.]+\(", lines[0]);
        Assert.DoesNotContain("Exception", lines[0]);
    }
}
