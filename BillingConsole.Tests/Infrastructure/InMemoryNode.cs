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
