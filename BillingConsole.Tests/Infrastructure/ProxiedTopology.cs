using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Npgsql;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// The production topology on loopback, as <c>scripts/topology.sh</c> builds it: nginx (deploy/nginx, TLS 1.3, HTTP/2,
/// sticky sessions) in front of two nodes of the built console, each its own process, and PgBouncer (deploy/pgbouncer,
/// transaction pooling) between the nodes and the run's PostgreSQL, over a database of its own. nginx and PgBouncer are
/// started by the script itself (<c>start --edge-only</c>), so the trial runs the configuration that ships.
/// Webhooks are allowed from 127.0.0.2 only, while nginx reaches the nodes from 127.0.0.1: a webhook is accepted only
/// when the nodes believe the client nginx names in X-Forwarded-For.
/// </summary>
public sealed class ProxiedTopology : IAsyncLifetime
{
    public const string WebhookSecret = "whsec_topology_0123456789";
    public static readonly IPAddress AllowedWebhookClient = IPAddress.Parse("127.0.0.2");
    public static readonly string[] NodeNames = ["node1", "node2"];

    private readonly int _httpsPort = ConsoleAppHost.FreePort();
    private readonly int _pgBouncerPort = ConsoleAppHost.FreePort();
    private readonly Uri[] _nodeAddresses = [new($"http://127.0.0.1:{ConsoleAppHost.FreePort()}"), new($"http://127.0.0.1:{ConsoleAppHost.FreePort()}")];
    private readonly string _redisPrefix = $"topology-{Guid.NewGuid():N}";
    private readonly string _data = Path.Combine(Path.GetDirectoryName(Environment.GetEnvironmentVariable("BILLING_TEST_REDIS_DIR") ?? ".")!,
        $"topology-{Guid.NewGuid():N}"[..17]);
    private MigratedDatabase? _database;

    public MigratedDatabase Database => _database ?? throw PureRun.NotStarted("proxied topology");
    public ConsoleProcess?[] Nodes { get; } = new ConsoleProcess?[2];
    public Uri PublicAddress => new($"https://127.0.0.1:{_httpsPort}");
    public string CertificatePath => Path.Combine(_data, "nginx", "tls.crt");
    public string Output => string.Join("\n", Nodes.Select((node, i) => $"--- {NodeNames[i]}:\n{node?.Output}"));

    /// <summary>A connection string to <paramref name="database"/> through PgBouncer, with what Npgsql needs there.</summary>
    public string ThroughPgBouncer(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = _pgBouncerPort,
        Database = database,
        Username = "billing",
        NoResetOnClose = true,
    }.ConnectionString;

    public async ValueTask InitializeAsync()
    {
        if (PureRun.IsOn) return;
        _database = await TestDatabases.CreateMigratedAsync("topology");
        await ScriptAsync("start", "--edge-only");
        await Task.WhenAll(StartNodeAsync(0), StartNodeAsync(1));
    }

    public async Task StartNodeAsync(int index)
    {
        var environment = BillingRunChecks.NodeEnvironment(ThroughPgBouncer(Database.Name));
        environment["Redis__ChannelPrefix"] = _redisPrefix;
        environment["ReverseProxy__KnownProxies__0"] = "127.0.0.1";
        environment["Gateway__Webhooks__AllowedNetworks__0"] = $"{AllowedWebhookClient}/32";
        environment["Gateway__Webhooks__Secrets__sandbox"] = WebhookSecret;
        Nodes[index] = await ConsoleProcess.StartAsync(_nodeAddresses[index], environment);
    }

    /// <summary>deploy/nginx's <c>keepalive</c>: the idle connections nginx keeps to each node's group.</summary>
    private const int NginxIdleConnectionsPerNode = 16;

    /// <summary>
    /// Starts again whichever node a trial killed, and waits until nginx serves each node again: after a kill nginx counts
    /// the node as failed for its fail_timeout and sends (and re-pins) its browsers to the other one meanwhile.
    /// </summary>
    public async Task EnsureBothNodesRunAsync()
    {
        var restarted = false;
        for (var i = 0; i < Nodes.Length; i++)
        {
            if (Nodes[i] is not null) continue;
            await StartNodeAsync(i);
            restarted = true;
        }
        using var client = Client(IPAddress.Loopback);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        // A node just restarted answers its health check long before it renders a page in time, and each request nginx
        // had to hand to the other node marks it failed for fail_timeout (10 s): only a run of pages served by each node
        // in a row, after that, says both are back for the browser.
        var inARow = restarted ? 5 : 1;
        // nginx keeps up to 16 idle connections per node and reuses the newest first: those to a killed node's old process
        // stay at the bottom of its pool until a burst of requests reaches them, fails, and moves that burst's browser to
        // the other node. A burst wider than the pool uses each once now, so none is left for the browser to meet.
        if (restarted)
            foreach (var node in NodeNames)
                await Task.WhenAll(Enumerable.Range(0, 2 * NginxIdleConnectionsPerNode).Select(_ => ServesAsync(client, node, "/health/live")));
        foreach (var path in new[] { "/health/live", "/account/dev-sign-in" })
            foreach (var node in NodeNames)
                for (var served = 0; served < inARow;)
                {
                    if (await ServesAsync(client, node, path))
                    {
                        served++;
                        continue;
                    }
                    served = 0;
                    if (DateTime.UtcNow > deadline) throw new TimeoutException($"nginx does not serve {path} from {node} again:\n{Output}");
                    await Task.Delay(500);
                }
    }

    /// <summary>Whether a request pinned to <paramref name="node"/> is answered by it (nginx pins the answer to the node that served it).</summary>
    private static async Task<bool> ServesAsync(HttpClient client, string node, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { { "Cookie", $"billing_node={node}" } } };
        using var answer = await client.SendAsync(request);
        return answer.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith($"billing_node={node};", StringComparison.Ordinal));
    }

    public async Task KillNodeAsync(int index)
    {
        await Nodes[index]!.DisposeAsync();
        Nodes[index] = null;
    }

    /// <summary>
    /// A client of nginx connecting from <paramref name="from"/> (any 127/8 address is this machine's), trusting nginx's
    /// own self-signed certificate and nothing else, speaking only the TLS versions given.
    /// </summary>
    public HttpClient Client(IPAddress from, SslProtocols protocols = SslProtocols.Tls13)
    {
        var certificate = X509CertificateLoader.LoadCertificateFromFile(CertificatePath);
        var handler = new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(from, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = protocols,
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString(),
            },
        };
        return new HttpClient(handler) { BaseAddress = PublicAddress, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
    }

    private async Task ScriptAsync(params string[] arguments)
    {
        var script = Path.Combine(BrowserFixture.RepositoryRoot(), "scripts", "topology.sh");
        var start = new ProcessStartInfo("bash", [script, .. arguments]);
        start.Environment["TOPOLOGY_DATA"] = _data;
        start.Environment["TOPOLOGY_HTTPS_PORT"] = _httpsPort.ToString();
        start.Environment["TOPOLOGY_PGBOUNCER_PORT"] = _pgBouncerPort.ToString();
        start.Environment["TOPOLOGY_PG_PORT"] = Environment.GetEnvironmentVariable("BILLING_TEST_PG_PORT");
        start.Environment["TOPOLOGY_NODE_PORTS"] = string.Join(' ', _nodeAddresses.Select(a => a.Port));
        await TestServers.RunAsync(start);
    }

    public async ValueTask DisposeAsync()
    {
        if (_database is null) return;
        foreach (var node in Nodes)
            if (node is not null) await node.DisposeAsync();
        await ScriptAsync("stop");
        await _database.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }
}
