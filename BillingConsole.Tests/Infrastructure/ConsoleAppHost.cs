using System.Net;
using System.Net.Sockets;
using Hangfire;
using BillingConsole.Persistence;
using BillingConsole.Persistence.DemoData;
using BillingConsole.ReadModels;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

[assembly: AssemblyFixture(typeof(BillingConsole.Tests.Infrastructure.ConsoleAppHost))]

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// The real console, started once for the whole test run on a free loopback port with Kestrel, over the
/// run's PostgreSQL database (ConnectionStrings__Billing from ./test.sh) filled with a small demo population.
/// Tests that change data create their own customers and invoices, so they never depend on one another.
/// The pure run starts none of this (<see cref="PureRun"/>).
/// </summary>
public sealed class ConsoleAppHost : IAsyncLifetime
{
    public const int DemoCustomers = 400;
    /// <summary>The "sandbox" gateway's webhook signing secret in the test host.</summary>
    public const string WebhookSecret = "whsec_test_sandbox_0123456789";
    private WebApplicationFactory<Program>? _factory;
    private Uri? _baseAddress;
    private DemoDataSummary? _demoData;

    public Uri BaseAddress => _baseAddress ?? throw PureRun.NotStarted("console host");
    public IServiceProvider Services => (_factory ?? throw PureRun.NotStarted("console host")).Services;
    public DemoDataSummary DemoData => _demoData ?? throw PureRun.NotStarted("console host");
    /// <summary>What the host logged (warnings and up), for tests that check a log line.</summary>
    public CapturedLogs Logs { get; } = new();

    /// <summary>The run's shared host, once started.</summary>
    public static ConsoleAppHost? Shared { get; private set; }

    /// <summary>
    /// Hangfire logs through one process-wide provider, which the last host built with Hangfire took over; a test's own host
    /// hands it back here before it stops, so the shared host's workers never log into a disposed logger factory.
    /// </summary>
    public void TakeBackHangfireLogging() =>
        GlobalConfiguration.Configuration.UseLogProvider(
            new Hangfire.AspNetCore.AspNetCoreLogProvider(Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>()));

    public async ValueTask InitializeAsync()
    {
        if (PureRun.IsOn) return;
        // Read by the host's Program before any test override could apply, so set for the process.
        Environment.SetEnvironmentVariable("ASPNETCORE_ENVIRONMENT", "Development");
        Environment.SetEnvironmentVariable("Authentication__DevelopmentSignIn", "true");
        // Requests and jobs log at Information; the test output keeps warnings and errors only.
        Environment.SetEnvironmentVariable("Logging__LogLevel__Default", "Warning");
        Environment.SetEnvironmentVariable("Gateway__Webhooks__Secrets__sandbox", WebhookSecret);
        // Outgoing events may go to the receivers the tests start on loopback; every other private network stays refused.
        Environment.SetEnvironmentVariable("Events__AllowedNetworks__0", "127.0.0.0/8");
        // The engine plays the demo before the host starts, as --seed-demo does: no job runs on a history being played.
        var (database, demoData) = await DemoDatabases.CreateAsync("console", new DemoDataOptions
        {
            Seed = 7, Subscriptions = DemoCustomers, ScaleBase = 120, Now = TimeProvider.System.GetUtcNow(),
        }, TestServers.DatabaseOf(TestServers.DefaultConnectionString));
        await database.DataSource.DisposeAsync();
        _demoData = demoData;

        var port = FreePort();
        _baseAddress = new Uri($"http://127.0.0.1:{port}");
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Development");
            web.UseContentRoot(AppContext.BaseDirectory);
            web.UseUrls(_baseAddress.ToString());
            web.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(Logs));
        });
        _factory.UseKestrel();
        _factory.StartServer();
        Shared = this;

        using var scope = Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<DashboardRefresher>().RefreshAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
    }

    public HttpClient CreateClient() => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = BaseAddress };

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A loopback port free now, for a server a test starts later or for one that is down. Not a port the kernel picks
    /// (bind to port 0): those come from the range it gives outgoing connections' local ends (32768–60999), and one of
    /// the many connections a test run opens can take it before the server binds it (seen as "address already in use"
    /// when a topology node started again).
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(20_000, 32_000);
            lock (HandedOut)
            {
                if (HandedOut.Contains(port)) continue;
                try
                {
                    using var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                }
                catch (SocketException)
                {
                    continue;
                }
                HandedOut.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException("No free port between 20000 and 32000.");
    }
}

/// <summary>One <see cref="ListLogger{T}"/> for every category of the host.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    public ListLogger<CapturedLogs> Logger { get; } = new();

    public ILogger CreateLogger(string categoryName) => Logger;

    public void Dispose() { }
}
