using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Persistence.DemoData;

public static class DemoDataExtensions
{
    /// <summary>
    /// The demo data generator and its replicator: registered by the hosts that seed (the console started with --seed-demo,
    /// the tests), never in a production container.
    /// </summary>
    public static IServiceCollection AddDemoData(this IServiceCollection services)
    {
        services.AddSingleton<DemoReplicator>();
        services.AddSingleton<DemoDataGenerator>();
        return services;
    }
}
