namespace BillingConsole.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class OidcCollection : ICollectionFixture<OidcConsoleHost>
{
    public const string Name = "Console signed in through OpenID Connect";
}

/// <summary>
/// The same console for tests that change what every other test sees (the dunning policy in force for all open cases): run
/// alone, after the parallel collections.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OidcSerialCollection : ICollectionFixture<OidcConsoleHost>
{
    public const string Name = "Console signed in through OpenID Connect, run alone";
}

/// <summary>
/// The console as production runs it: its own process, signing in through an OpenID Connect provider (the in-process
/// <see cref="TestIdentityProvider"/>) with role values mapped from the provider's names. It shares the run's database with
/// the <see cref="ConsoleAppHost"/>, as a second node would.
/// </summary>
public sealed class OidcConsoleHost : IAsyncLifetime
{
    private ConsoleProcess? _console;
    private TestIdentityProvider? _provider;

    public Uri BaseAddress { get; private set; } = null!;
    public string Output => _console?.Output ?? string.Empty;

    public async ValueTask InitializeAsync()
    {
        BaseAddress = new Uri($"http://127.0.0.1:{ConsoleAppHost.FreePort()}");
        _provider = await TestIdentityProvider.StartAsync(BaseAddress);
        _console = await ConsoleProcess.StartAsync(BaseAddress, new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ConnectionStrings__Billing"] = TestServers.DefaultConnectionString,
            ["Redis__Configuration"] = TestServers.RedisConfiguration,
            ["Hangfire__RunServer"] = "false",
            ["Authentication__Authority"] = _provider.Authority.ToString(),
            ["Authentication__ClientId"] = TestIdentityProvider.ClientId,
            ["Authentication__ClientSecret"] = TestIdentityProvider.ClientSecret,
            ["Authentication__RequireHttpsMetadata"] = "false",
            ["Authentication__RoleMap__finance__0"] = "billing-finance",
            ["Authentication__RoleMap__support__0"] = "billing-support",
            ["Authentication__RoleMap__admin__0"] = "billing-admin",
            // The sign-in's own diagnostics, so that the log scan sees what an operator turning them on would see.
            ["Logging__LogLevel__Microsoft.AspNetCore.Authentication"] = "Debug",
        });
        await WarmUpSignInAsync();
    }

    /// <summary>The first challenge fetches the provider's metadata and compiles the sign-in path; do it before any test's clock runs.</summary>
    private async Task WarmUpSignInAsync()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
        var challenge = await client.GetAsync("/account/login?returnUrl=%2F");
        if ((int)challenge.StatusCode != 302 || challenge.Headers.Location?.ToString().Contains("/connect/authorize") != true)
            throw new InvalidOperationException($"The console did not redirect to the provider ({(int)challenge.StatusCode} {challenge.Headers.Location}):\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_console is not null) await _console.DisposeAsync();
        if (_provider is not null) await _provider.DisposeAsync();
    }
}
