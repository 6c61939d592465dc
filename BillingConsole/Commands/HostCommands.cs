using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;

namespace BillingConsole.Commands;

/// <summary>One-off operator commands run instead of the web host, e.g. <c>dotnet BillingConsole.dll create-api-key NAME</c>.</summary>
public static class HostCommands
{
    public const string CreateApiKey = "create-api-key";
    public const string SimulateDunning = "simulate-dunning";

    public static bool Handles(string[] args) => args is [CreateApiKey or SimulateDunning or BillingBenchmark.Name or ListBenchmark.Name, ..];

    public static Task<int> RunAsync(string[] args) => args[0] switch
    {
        SimulateDunning => SimulateDunningCommand.RunAsync(args[1..]),
        BillingBenchmark.Name => BillingBenchmark.RunAsync(args[1..]),
        ListBenchmark.Name => ListBenchmark.RunAsync(args[1..]),
        _ => CreateApiKeyAsync(args),
    };

    private static async Task<int> CreateApiKeyAsync(string[] args)
    {
        if (args is not [CreateApiKey, var name, ..] || string.IsNullOrWhiteSpace(name) || name.StartsWith("--"))
        {
            await Console.Error.WriteLineAsync($"Usage: BillingConsole {CreateApiKey} NAME (the upstream system the key is for).");
            return 2;
        }

        var builder = Host.CreateApplicationBuilder(args[2..]);
        builder.Logging.ClearProviders();
        builder.AddBillingEngine();
        using var host = builder.Build();
        await host.Services.GetRequiredService<DatabaseStartup>().PrepareAsync(null, CancellationToken.None);
        using var scope = host.Services.CreateScope();
        var created = await scope.ServiceProvider.GetRequiredService<ApiKeys>().CreateAsync(name);
        // The key alone on stdout so a script can capture it; it cannot be shown again.
        Console.WriteLine(created.Key);
        await Console.Error.WriteLineAsync($"API key '{created.Name}' created (prefix {created.Prefix}). Store it now: it is not shown again.");
        return 0;
    }
}
