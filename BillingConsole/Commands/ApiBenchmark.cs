using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using Dapper;
using Npgsql;

namespace BillingConsole.Commands;

/// <summary>
/// benchmark-api [--url URL | --app DLL] [--scale N] [--seconds N] [--connections N] [--only TEXT]: drives the upstream API
/// over real HTTP with a fixed number of concurrent connections for a fixed time per request kind, and prints requests per second and p50/p95/p99 latency:
/// the invoices of 2,000 different customers, the same read for an unknown customer (404), /health/live, and the main writes
/// with idempotency keys. Without --url it starts the app itself (on an empty configured database it first fills it with demo
/// data at --scale, 100,000 by default) and also prints the app's CPU per request; --app starts another build's
/// BillingConsole.dll instead, to compare builds on the same database. --only runs the request kinds whose name contains
/// the text (e.g. "invoices"). With --url it drives an app already running
/// on the configured database, which must allow the load: RateLimits__ApiPerKey=1000000.
/// </summary>
public static class ApiBenchmark
{
    public const string Name = "benchmark-api";
    private const int ReadCustomers = 2_000;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private sealed record Scenario(string Name, HttpStatusCode Expected, Func<long, HttpRequestMessage> Request, Action<string>? Answered = null);

    private sealed record Price(Guid Id, string Currency);

    private sealed record Figures(long Requests, long Unexpected, string? FirstUnexpected, double Seconds, double[] SortedMs, TimeSpan? AppCpu);

    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchmarkReport.PositiveCount(args, "--scale", 100_000) is not { } scale
            || BenchmarkReport.PositiveCount(args, "--seconds", 15) is not { } seconds
            || BenchmarkReport.PositiveCount(args, "--connections", 16) is not { } connections)
            return 2;
        var targetUrl = BenchmarkReport.Text(args, "--url");

        var builder = Host.CreateApplicationBuilder(args);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" });
        builder.AddBillingEngine();
        using var host = builder.Build();
        var services = host.Services;

        using var app = targetUrl is null ? await StartAppAsync(scale, BenchmarkReport.Text(args, "--app")) : null;
        var url = targetUrl ?? app!.Url;
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        await services.GetRequiredService<DatabaseStartup>().PrepareAsync(null, CancellationToken.None);
        var (customers, price, invoiceRows) = await PopulationAsync(dataSource);
        if (customers.Length == 0 || price is null)
        {
            await Console.Error.WriteLineAsync("The database has no customer with invoices or no active price without a trial: fill it first (--scale).");
            return 1;
        }

        CreatedApiKey key;
        await using (var scope = services.CreateAsyncScope())
            key = await scope.ServiceProvider.GetRequiredService<ApiKeys>().CreateAsync($"benchmark-api {DateTime.UtcNow:O}");
        // The key works only for this run, whatever ends it.
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler
            {
                MaxConnectionsPerServer = connections,
                PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                UseCookies = false,
            }) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);

            var created = new List<Guid>();
            var replayKey = Guid.NewGuid();
            var replayBody = NewCustomer(price.Currency, -1);
            var createCustomer = new Scenario("POST /api/v1/customers", HttpStatusCode.Created,
                i => Post("/api/v1/customers", NewCustomer(price.Currency, i), Guid.NewGuid()),
                body => { lock (created) created.Add(JsonSerializer.Deserialize<CustomerView>(body, Json)!.Id); });
            Scenario[] scenarios =
            [
                new("GET /health/live", HttpStatusCode.OK, _ => new HttpRequestMessage(HttpMethod.Get, "/health/live")),
                new("GET /api/v1/customers/{id}/invoices?limit=20", HttpStatusCode.OK,
                    i => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/customers/{customers[i % customers.Length]}/invoices?limit=20")),
                new("the same, unknown customer (404)", HttpStatusCode.NotFound,
                    _ => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/customers/{Guid.NewGuid()}/invoices?limit=20")),
                createCustomer,
                new("POST /api/v1/subscriptions (first invoice issued)", HttpStatusCode.Created,
                    i => Post("/api/v1/subscriptions", new CreateSubscription(CreatedCustomer(created, i), price.Id, 1, 0), Guid.NewGuid())),
                new("POST /api/v1/customers/{id}/payment-methods", HttpStatusCode.Created,
                    i => Post($"/api/v1/customers/{CreatedCustomer(created, i)}/payment-methods",
                        new AttachPaymentMethod("sandbox", $"pm_ok_bench_{Guid.NewGuid():N}", "visa", "4242", 12, 2030), Guid.NewGuid())),
                new("the first POST /customers again, same key (replayed)", HttpStatusCode.Created,
                    _ => Post("/api/v1/customers", replayBody, replayKey)),
            ];
            // The replayed request must have run once before it can be replayed; the subscriptions and cards need customers of their
            // own from the start.
            for (var i = 0; i < 100; i++)
            {
                using var answer = await http.SendAsync(i == 0 ? Post("/api/v1/customers", replayBody, replayKey) : createCustomer.Request(-i));
                var body = await answer.Content.ReadAsStringAsync();
                if (answer.StatusCode != HttpStatusCode.Created)
                {
                    await Console.Error.WriteLineAsync($"POST /api/v1/customers answered {(int)answer.StatusCode}: {body}");
                    return 1;
                }
                createCustomer.Answered!(body);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"""
                 benchmark-api against {url} ({(app is null ? "an app already running" : "an app this command started")}): {connections} connections, {seconds} s per request kind after 3 s of warm-up
                   reads over {customers.Length:N0} customers with invoices; the database holds {invoiceRows:N0} invoices; {Environment.ProcessorCount} cores; load average (1 min) {BenchmarkReport.LoadAverage()}
                   the driver runs on the same cores as the app and the database, so every figure is lower than a separate load generator would see
                 {"request",-52} {"requests",9} {"req/s",8} {"p50 ms",7} {"p95 ms",7} {"p99 ms",7} {"app CPU ms/req",14} {"not as expected",15}
                 """));
            var worst = 0L;
            var only = BenchmarkReport.Text(args, "--only");
            foreach (var scenario in scenarios.Where(s => only is null || s.Name.Contains(only, StringComparison.OrdinalIgnoreCase)))
            {
                await DriveAsync(http, scenario, connections, TimeSpan.FromSeconds(3), app);
                var figures = await DriveAsync(http, scenario, connections, TimeSpan.FromSeconds(seconds), app);
                worst = Math.Max(worst, figures.Unexpected);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{scenario.Name,-52} {figures.Requests,9:N0} {figures.Requests / figures.Seconds,8:N0} {BenchmarkReport.Percentile(figures.SortedMs, 0.50),7:F1} {BenchmarkReport.Percentile(figures.SortedMs, 0.95),7:F1} {BenchmarkReport.Percentile(figures.SortedMs, 0.99),7:F1} {(figures.AppCpu is { } cpu ? (cpu.TotalMilliseconds / Math.Max(1, figures.Requests)).ToString("F2", CultureInfo.InvariantCulture) : "n/a"),14} {figures.Unexpected,15:N0}"));
                if (figures.FirstUnexpected is { } answer) Console.WriteLine($"  first answer not as expected: {answer}");
            }
            Console.WriteLine($"load average (1 min) after: {BenchmarkReport.LoadAverage()}");

            return worst == 0 ? 0 : 1;
        }
        finally
        {
            await using (var scope = services.CreateAsyncScope())
                await scope.ServiceProvider.GetRequiredService<ApiKeys>().RevokeAsync(key.Prefix, Actor.System, "The benchmark is over");
        }
    }

    private static async Task<Figures> DriveAsync(HttpClient http, Scenario scenario, int connections, TimeSpan duration, StartedApp? app)
    {
        var sequence = -1L;
        var cpuBefore = app?.Cpu();
        var clock = Stopwatch.StartNew();
        var workers = await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            var timings = new List<double>();
            var unexpected = 0L;
            string? firstUnexpected = null;
            while (clock.Elapsed < duration)
            {
                using var request = scenario.Request(Interlocked.Increment(ref sequence));
                var started = Stopwatch.GetTimestamp();
                using var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                timings.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (response.StatusCode == scenario.Expected) scenario.Answered?.Invoke(body);
                else
                {
                    unexpected++;
                    firstUnexpected ??= $"{(int)response.StatusCode} {body}";
                }
            }
            return (timings, unexpected, firstUnexpected);
        }));
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = workers.SelectMany(w => w.timings).Order().ToArray();
        return new Figures(all.Length, workers.Sum(w => w.unexpected), workers.Select(w => w.firstUnexpected).FirstOrDefault(a => a is not null),
            elapsed, all, app?.Cpu() - cpuBefore);
    }

    private static HttpRequestMessage Post(string path, object body, Guid idempotencyKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(JsonSerializer.Serialize(body, Json), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey.ToString());
        return request;
    }

    private static CreateCustomer NewCustomer(string currency, long i) => new($"Benchmark API customer {i}", $"api-bench-{Guid.NewGuid():N}@bench.example",
        currency, new AddressInput("1 Ledger Lane", null, "London", "EC1A 1BB", "GB"), null);

    /// <summary>The customers the create scenario made, in turn.</summary>
    private static Guid CreatedCustomer(List<Guid> created, long i)
    {
        lock (created) return created[(int)(i % created.Count)];
    }

    private static async Task<(Guid[] Customers, Price? Price, long Invoices)> PopulationAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        // Spread over the whole table, not its first pages: md5 of the id orders the customers at random but the same each run.
        var customers = (await connection.QueryAsync<Guid>(
            "select c.id from customers c where exists (select 1 from invoices i where i.customer_id = c.id) order by md5(c.id::text) limit @count",
            new { count = ReadCustomers })).ToArray();
        var price = await connection.QueryFirstOrDefaultAsync<Price>(
            "select id, currency from prices where active and trial_days = 0 order by amount, id limit 1");
        var invoices = await connection.ExecuteScalarAsync<long>("select reltuples::bigint from pg_class where relname = 'invoices'");
        return (customers, price, invoices);
    }

    /// <summary>
    /// Starts this same program as the web app on a free loopback port, the per-key limit raised for the load, and waits until
    /// /health/live answers (after the demo data, when the database was empty).
    /// </summary>
    /// <param name="appAssembly">Another build's BillingConsole.dll, to compare builds on the same database; null for this one.</param>
    private static async Task<StartedApp> StartAppAsync(int scale, string? appAssembly)
    {
        var port = FreePort();
        var program = Environment.ProcessPath ?? throw new InvalidOperationException("The program's path is not known.");
        var start = new ProcessStartInfo(appAssembly is null ? program : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        // Run as "dotnet BillingConsole.dll": the muxer needs the assembly again.
        if (appAssembly is not null || Path.GetFileNameWithoutExtension(program) == "dotnet")
            start.ArgumentList.Add(Path.GetFullPath(appAssembly ?? typeof(ApiBenchmark).Assembly.Location));
        foreach (var argument in new[] { "--seed-demo", "--scale", scale.ToString(CultureInfo.InvariantCulture), "--urls", $"http://127.0.0.1:{port}" })
            start.ArgumentList.Add(argument);
        start.Environment["RateLimits__ApiPerKey"] = "1000000";
        // A loopback app over demo data: the development sign-in, so that no identity provider is needed.
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["Authentication__DevelopmentSignIn"] = "true";
        var process = Process.Start(start) ?? throw new InvalidOperationException("The app did not start.");
        var lastLines = new Queue<string>();
        void Keep(string? line)
        {
            if (line is null) return;
            lock (lastLines)
            {
                lastLines.Enqueue(line);
                if (lastLines.Count > 20) lastLines.Dequeue();
            }
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var app = new StartedApp(process, $"http://127.0.0.1:{port}");
        var waited = Stopwatch.StartNew();
        using var probe = new HttpClient { BaseAddress = new Uri(app.Url), Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            if (process.HasExited)
            {
                lock (lastLines) throw new InvalidOperationException($"The app stopped before it answered:{Environment.NewLine}{string.Join(Environment.NewLine, lastLines)}");
            }
            try
            {
                if ((await probe.GetAsync("/health/live")).IsSuccessStatusCode) break;
            }
            catch (HttpRequestException)
            {
                // Not listening yet: migrating or filling the database.
            }
            await Task.Delay(1000);
        }
        Console.WriteLine($"The app answered after {waited.Elapsed.TotalSeconds:F0} s (migrations, and demo data at scale {scale:N0} when the database was empty).");
        return app;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class StartedApp(Process process, string url) : IDisposable
    {
        public string Url { get; } = url;

        public TimeSpan Cpu()
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }

        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
            process.Dispose();
        }
    }
}
