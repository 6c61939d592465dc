using BillingConsole.Domain.Tax;
using BillingConsole.Engine.Payments;
using BillingConsole.Engine;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Gateways;
using BillingConsole.Jobs;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using BillingConsole.Persistence;
using BillingConsole.Persistence.DemoData;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// The billing engine's services over one test database, built the way the host builds them (AddBillingEngine), with a
/// fake clock and, unless Hangfire is asked for, a job client that records what would have been enqueued.
/// Two instances over one database stand for two nodes; pass the first one's gateway so both talk to one "gateway".
/// </summary>
public sealed class EngineServices : IAsyncDisposable
{
    private readonly IHost _host;

    private EngineServices(IHost host, FakeTimeProvider clock)
    {
        _host = host;
        Clock = clock;
    }

    public FakeTimeProvider Clock { get; }
    public IServiceProvider Services => _host.Services;
    public SandboxGateway Gateway => Services.GetRequiredService<SandboxGateway>();
    public RecordingJobClient Jobs => Services.GetRequiredService<RecordingJobClient>();

    public static readonly DateTimeOffset DefaultNow = new(2027, 3, 15, 0, 5, 0, TimeSpan.Zero);

    public static EngineServices Create(MigratedDatabase database, FakeTimeProvider? clock = null, SandboxGateway? sharedGateway = null,
        IReadOnlyDictionary<string, string?>? settings = null, bool hangfire = false, Action<IServiceCollection>? services = null)
    {
        clock ??= new FakeTimeProvider(DefaultNow);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Development" });
        var configuration = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Billing"] = database.ConnectionString,
            ["Redis:Configuration"] = TestServers.RedisConfiguration,
            ["Gateway:Mode"] = "sandbox",
            ["Gateway:ChargeTimeoutMs"] = "300",
            // Repeats of a failed call wait a little, well within the deadline.
            ["Gateway:RetryDelayMs"] = "10",
            ["Gateway:Sandbox:SlowLatencyMs"] = "50",
            ["Gateway:Sandbox:TimeoutMs"] = "10000",
            ["Billing:ChunkSize"] = "100",
            ["Billing:ChargeConcurrency"] = "8",
            ["Hangfire:PollingIntervalSeconds"] = "1",
            ["Hangfire:WorkerCount"] = "4",
            ["Hangfire:BillingWorkerCount"] = "4",
            ["Hangfire:RunServer"] = hangfire ? "true" : "false",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) configuration[key] = value;
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.AddBillingEngine();
        builder.Services.AddDemoData();
        if (hangfire)
        {
            builder.AddBillingJobs();
        }
        else
        {
            builder.Services.AddScoped<BillingChunkJob>();
            builder.Services.AddScoped<BulkRetryJob>();
            builder.Services.AddScoped<PriceMigrationJob>();
            builder.Services.AddSingleton<RecordingJobClient>();
            builder.Services.AddSingleton<IBackgroundJobClient>(provider => provider.GetRequiredService<RecordingJobClient>());
            builder.Services.AddSingleton<IRecurringJobManager>(provider => provider.GetRequiredService<RecordingJobClient>());
            builder.Services.AddSingleton<IBackgroundWork, HangfireBackgroundWork>();
        }
        if (sharedGateway is not null) builder.Services.AddSingleton(sharedGateway);
        services?.Invoke(builder.Services);
        return new EngineServices(builder.Build(), clock);
    }

    public Task StartAsync() => _host.StartAsync();

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>Runs <paramref name="action"/> with a fresh scope, as one request or one job would.</summary>
    public async Task<TResult> InScopeAsync<TService, TResult>(Func<TService, Task<TResult>> action) where TService : notnull
    {
        await using var scope = Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<TService>());
    }

    public async Task InScopeAsync<TService>(Func<TService, Task> action) where TService : notnull
    {
        await using var scope = Services.CreateAsyncScope();
        await action(scope.ServiceProvider.GetRequiredService<TService>());
    }

    /// <summary>
    /// An open invoice of <paramref name="amount"/> for a new customer's monthly subscription (its period just ended), issued
    /// the way a billing run issues one; the customer's card token starts with <paramref name="tokenPrefix"/>.
    /// </summary>
    public async Task<(Guid InvoiceId, Guid CustomerId)> OpenInvoiceAsync(BillingTestData data, string tokenPrefix, decimal amount = 20m)
    {
        var (plan, price) = await data.PlanAsync(amount);
        var customer = await data.CustomerAsync(tokenPrefix);
        var subscription = await data.SubscriptionAsync(customer, price);
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
        var tracked = await db.Customers.SingleAsync(c => c.Id == customer.Id);
        var snapshot = BillableSubscription.From(subscription, BillablePrice.From(plan, price), null);
        var generated = scope.ServiceProvider.GetRequiredService<InvoiceGenerator>().Generate(snapshot, [], tracked.CreditBalance, InvoiceTax.None, data.Now)!;
        var invoice = await scope.ServiceProvider.GetRequiredService<InvoiceIssuer>().IssueAsync(tracked, generated, null, CancellationToken.None);
        await db.SaveChangesAsync();
        return (invoice.Id, customer.Id);
    }

    /// <summary>Starts a billing run as the schedule would and runs its chunks: the due subscriptions are invoiced and charged.</summary>
    public async Task<Guid> RunBillingAsync()
    {
        var runId = await InScopeAsync<BillingRunService, Guid>(runs => runs.StartAsync(Actor.System));
        await RunEnqueuedChunksAsync();
        return runId;
    }

    /// <summary>Runs every chunk job enqueued so far, as Hangfire workers would (optionally several at once).</summary>
    public async Task RunEnqueuedChunksAsync()
    {
        foreach (var (runId, chunk) in Jobs.TakeChunks())
            await InScopeAsync<BillingChunkJob>(job => job.RunAsync(runId, chunk, CancellationToken.None));
    }

    public async ValueTask DisposeAsync()
    {
        ConsoleAppHost.Shared?.TakeBackHangfireLogging();
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>
/// Stands in for Hangfire's client: keeps the chunk, bulk retry and price migration jobs that would have been enqueued. No test without
/// Hangfire changes the recurring jobs.
/// </summary>
public sealed class RecordingJobClient : IBackgroundJobClient, IRecurringJobManager
{
    private readonly List<(Guid RunId, int Chunk)> _chunks = [];
    private readonly List<Guid> _bulkRetries = [];
    private readonly List<Guid> _priceMigrations = [];

    public string Create(Job job, IState state)
    {
        if (job.Type == typeof(BillingChunkJob))
            lock (_chunks) _chunks.Add(((Guid)job.Args[0], (int)job.Args[1]));
        else if (job.Type == typeof(BulkRetryJob))
            lock (_bulkRetries) _bulkRetries.Add((Guid)job.Args[0]);
        else if (job.Type == typeof(PriceMigrationJob))
            lock (_priceMigrations) _priceMigrations.Add((Guid)job.Args[0]);
        else
            throw new InvalidOperationException($"Unexpected job {job.Type.Name}.{job.Method.Name}.");
        return Guid.NewGuid().ToString();
    }

    public IReadOnlyList<Guid> BulkRetries
    {
        get { lock (_bulkRetries) return [.. _bulkRetries]; }
    }

    public IReadOnlyList<Guid> PriceMigrations
    {
        get { lock (_priceMigrations) return [.. _priceMigrations]; }
    }

    public bool ChangeState(string jobId, IState state, string expectedState) => true;

    public void AddOrUpdate(string recurringJobId, Job job, string cronExpression, RecurringJobOptions options) =>
        throw new InvalidOperationException($"Unexpected recurring job {recurringJobId}.");

    public void Trigger(string recurringJobId) => throw new InvalidOperationException($"Unexpected recurring job {recurringJobId}.");

    public void RemoveIfExists(string recurringJobId) => throw new InvalidOperationException($"Unexpected recurring job {recurringJobId}.");

    public IReadOnlyList<(Guid RunId, int Chunk)> TakeChunks()
    {
        lock (_chunks)
        {
            var taken = _chunks.ToList();
            _chunks.Clear();
            return taken;
        }
    }
}
