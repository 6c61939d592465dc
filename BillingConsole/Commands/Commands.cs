namespace BillingConsole.Commands;

/// <summary>Command-line commands that run instead of the web host (the first argument names one).</summary>
public static class Commands
{
    /// <summary>The command's exit code, or null when the arguments name no command and the web host should start.</summary>
    public static async Task<int?> TryRunAsync(string[] args) => args.FirstOrDefault() switch
    {
        BillingBenchmark.Name => await BillingBenchmark.RunAsync(args[1..]),
        _ => null,
    };
}
