using Hangfire;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// A second console node in the test process, served in memory (no port) over the run's database, with settings of its
/// own: for tests that need a configuration the shared <see cref="ConsoleAppHost"/> must not have. It runs no Hangfire server.
/// </summary>
public static class InMemoryNode
{
    /// <summary>
    /// Hangfire's configuration is process-wide: a node that starts points Hangfire's logging at its own logger factory.
    /// Before the node goes, it is pointed back at the shared host's, so that the shared host's workers never log into a
    /// disposed factory.
    /// </summary>
    public static async Task DisposeAsync(WebApplicationFactory<Program> node, ConsoleAppHost host)
    {
        host.TakeBackHangfireLogging();
        await node.DisposeAsync();
    }

    public static WebApplicationFactory<Program> Create(IReadOnlyDictionary<string, string> settings, Action<IServiceCollection>? services = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Development");
            web.UseContentRoot(AppContext.BaseDirectory);
            web.UseSetting("Hangfire:RunServer", "false");
            foreach (var (key, value) in settings) web.UseSetting(key, value);
            if (services is not null) web.ConfigureServices(services);
        });
}
