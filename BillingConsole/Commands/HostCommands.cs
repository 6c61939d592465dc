using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;

namespace BillingConsole.Commands;

/// <summary>
/// One-off operator commands run instead of the web host, e.g. <c>dotnet BillingConsole.dll create-api-key NAME</c> or
/// <c>revoke-api-key PREFIX</c>.
/// </summary>
public static class HostCommands
{
    public const string CreateApiKey = "create-api-key";
    public const string RevokeApiKey = "revoke-api-key";
    public const string SimulateDunning = "simulate-dunning";

    public static bool Handles(string[] args) =>
        args is [CreateApiKey or RevokeApiKey or SimulateDunning or BillingBenchmark.Name or DunningBenchmark.Name or ListBenchmark.Name or ApiBenchmark.Name or TestClockBenchmark.Name or ReplicateBenchmark.Name, ..];

    public static Task<int> RunAsync(string[] args) => args[0] switch
    {
        SimulateDunning => SimulateDunningCommand.RunAsync(args[1..]),
        BillingBenchmark.Name => BillingBenchmark.RunAsync(args[1..]),
        DunningBenchmark.Name => DunningBenchmark.RunAsync(args[1..]),
        ListBenchmark.Name => ListBenchmark.RunAsync(args[1..]),
        ApiBenchmark.Name => ApiBenchmark.RunAsync(args[1..]),
        TestClockBenchmark.Name => TestClockBenchmark.RunAsync(args[1..]),
        ReplicateBenchmark.Name => ReplicateBenchmark.RunAsync(args[1..]),
        RevokeApiKey => RevokeApiKeyAsync(args),
        _ => CreateApiKeyAsync(args),
    };

    private static async Task<int> CreateApiKeyAsync(string[] args)
    {
        if (args is not [CreateApiKey, var name, ..] || string.IsNullOrWhiteSpace(name) || name.StartsWith("--"))
        {
            await Console.Error.WriteLineAsync($"Usage: BillingConsole {CreateApiKey} NAME (the upstream system the key is for).");
            return 2;
        }

        using var host = await EngineHostAsync(args[2..]);
        using var scope = host.Services.CreateScope();
        var created = await scope.ServiceProvider.GetRequiredService<ApiKeys>().CreateAsync(name);
        // The key alone on stdout so a script can capture it; it cannot be shown again.
        Console.WriteLine(created.Key);
        await Console.Error.WriteLineAsync($"API key '{created.Name}' created (prefix {created.Prefix}). Store it now: it is not shown again.");
        return 0;
    }

    private static async Task<int> RevokeApiKeyAsync(string[] args)
    {
        if (args is not [RevokeApiKey, var prefix, ..] || string.IsNullOrWhiteSpace(prefix) || prefix.StartsWith("--"))
        {
            await Console.Error.WriteLineAsync($"Usage: BillingConsole {RevokeApiKey} PREFIX (the 12 characters after 'bk_' in the key).");
            return 2;
        }

        using var host = await EngineHostAsync(args[2..]);
        using var scope = host.Services.CreateScope();
        if (!await scope.ServiceProvider.GetRequiredService<ApiKeys>().RevokeAsync(prefix, Actor.System, $"Revoked with the {RevokeApiKey} command"))
        {
            await Console.Error.WriteLineAsync($"No API key in force has the prefix '{prefix}'.");
            return 1;
        }
        await Console.Error.WriteLineAsync(
            $"API key {prefix} revoked: running nodes refuse it within {ApiKeyCache.Lifetime.TotalSeconds:F0} seconds.");
        return 0;
    }

    private static async Task<IHost> EngineHostAsync(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Logging.ClearProviders();
        builder.AddBillingEngine();
        var host = builder.Build();
        await host.Services.GetRequiredService<DatabaseStartup>().PrepareAsync(null, CancellationToken.None);
        return host;
    }
}
