using BillingConsole.Persistence;
using BillingConsole.Persistence.DemoData;

namespace BillingConsole.Extensions;

public static class DatabaseExtensions
{
    /// <summary>With --seed-demo: the demo data generator, which the production container never holds.</summary>
    public static void AddDemoSeeding(this WebApplicationBuilder builder, string[] args)
    {
        if (args.Contains("--seed-demo")) builder.Services.AddDemoData();
    }

    /// <summary>Migrates the database; with --seed-demo [--scale N] also fills an empty one with demo data.</summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app, string[] args)
    {
        var seed = args.Contains("--seed-demo") ? new DemoSeedRequest(ScaleArgument(args)) : null;
        await app.Services.GetRequiredService<DatabaseStartup>().PrepareAsync(seed, app.Lifetime.ApplicationStopping);
    }

    private static int? ScaleArgument(string[] args)
    {
        var index = Array.IndexOf(args, "--scale");
        if (index < 0) return null;
        if (index + 1 >= args.Length || !int.TryParse(args[index + 1], out var scale) || scale < 1)
            throw new Configuration.StartupException("--scale needs a positive whole number of subscriptions, e.g. --scale 1000000.");
        return scale;
    }
}
