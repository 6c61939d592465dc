using System.Diagnostics;
using System.Reflection;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>Runs the built console as its own process, as an operator would, for tests of start-up and of process death.</summary>
public static class HostProcess
{
    /// <summary>The console as published for the tests (ReadyToRun, by the test project's build), with its settings and web root.</summary>
    public static string HostDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "node");

    public static string HostAssemblyPath { get; } = Path.Combine(HostDirectory, "BillingConsole.dll");

    public static ProcessStartInfo StartInfo(IDictionary<string, string?> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [HostAssemblyPath, .. arguments])
        {
            WorkingDirectory = HostDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Start from a clean slate: nothing inherited from the test run decides what the host sees.
        foreach (var key in start.Environment.Keys.Where(k => k.Contains("__") || k.StartsWith("ASPNETCORE_") || k.StartsWith("DOTNET_ENVIRONMENT")).ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        return start;
    }

    /// <summary>Runs to exit (or kills after the timeout) and returns the exit code and both outputs.</summary>
    public static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunToExitAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The host did not exit within {timeout}: {await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    public static string Configuration => typeof(HostProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
}
