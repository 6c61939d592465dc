using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Api;

/// <summary>Each test gets its own API key (hence its own audit actor and customer name) on the shared host.</summary>
public abstract class ApiTestBase(ConsoleAppHost host) : IAsyncLifetime
{
    protected ConsoleAppHost Host { get; } = host;
    protected ApiTestClient Api { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Api = await ApiTestClient.CreateAsync(Host, GetType().Name);

    public ValueTask DisposeAsync()
    {
        Api.Http.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
