using System.ComponentModel.DataAnnotations;

namespace BillingConsole.Configuration;

/// <summary>appsettings.json "Billing": when and how the billing cycle runs, and what invoices say.</summary>
public sealed class BillingOptions
{
    public const string Section = "Billing";

    /// <summary>IANA time zone in which billing periods and the run schedule are computed.</summary>
    [Required] public string TimeZone { get; set; } = "UTC";
    /// <summary>Cron expression for the billing run, in <see cref="TimeZone"/>. Default: daily at 00:05.</summary>
    [Required] public string RunSchedule { get; set; } = "5 0 * * *";
    /// <summary>Subscriptions per chunk of a billing run: each chunk is one background job and one transaction.</summary>
    [Range(100, 5000)] public int ChunkSize { get; set; } = 1000;
    /// <summary>Gateway calls in flight at once on one node, whichever chunks and batches they come from.</summary>
    [Range(1, 256)] public int ChargeConcurrency { get; set; } = 32;
    /// <summary>
    /// How long an invoice's charge claim holds unless its holder renews it (every third of it while the charge runs): how
    /// soon the invoices a dead node was charging can be charged again.
    /// </summary>
    [Range(5, 600)] public int ChargeClaimSeconds { get; set; } = 60;

    public TimeSpan ChargeClaimLifetime => TimeSpan.FromSeconds(ChargeClaimSeconds);
    /// <summary>
    /// A running run whose chunks have shown no progress for this long is taken as abandoned (its node died before or while
    /// its chunk jobs were queued): the next start queues its unfinished chunks again, which chunks are safe to run twice.
    /// </summary>
    [Range(1, 1440)] public int StalledRunMinutes { get; set; } = 30;
    [Required, RegularExpression("^[A-Z0-9-]{1,12}$", ErrorMessage = "Billing:InvoicePrefix must be 1–12 capital letters, digits or dashes.")]
    public string InvoicePrefix { get; set; } = "INV-";
    [Range(0.0, 1.0)] public decimal TaxRate { get; set; }
    [Range(0, 90)] public int PaymentTermsDays { get; set; }
    /// <summary>The most a support agent may refund in one refund, in the refund's currency; larger refunds take an admin.</summary>
    [Range(0.0, 1_000_000.0)] public decimal SupportRefundLimit { get; set; } = 100m;
    /// <summary>
    /// An open invoice of a customer charged automatically that has never been tried is charged this long after it was issued
    /// (Stripe waits about an hour after finalizing), by the auto-collection job; the billing run charges its own at once.
    /// </summary>
    [Range(0, 10_080)] public int AutoCollectionDelayMinutes { get; set; } = 60;
    [Required] public string SellerName { get; set; } = "BillingConsole Demo Ltd";
    public string[] SellerAddress { get; set; } = [];
    public string SellerTaxId { get; set; } = string.Empty;
    /// <summary>
    /// Upstream API requests that change anything must carry an Idempotency-Key header (a UUID), so that a retry never
    /// acts twice. Turn off only for a client that cannot send one; requests that do send one are honoured either way.
    /// </summary>
    public bool EnforceIdempotencyKeys { get; set; } = true;
}

/// <summary>appsettings.json "Redis": the StackExchange.Redis configuration string.</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    [Required(ErrorMessage = "Redis:Configuration is missing: set it in appsettings.json or the environment variable Redis__Configuration.")]
    public string Configuration { get; set; } = string.Empty;
    /// <summary>Channel prefix for live-update messages between nodes.</summary>
    public string ChannelPrefix { get; set; } = "billing";
}

/// <summary>appsettings.json "Hangfire": workers and queues of this node.</summary>
public sealed class HangfireOptions
{
    public const string Section = "Hangfire";

    /// <summary>Workers for every queue but the billing queue.</summary>
    [Range(1, 100)] public int WorkerCount { get; set; } = 8;
    /// <summary>
    /// Workers for the billing queue (its chunks), apart from the others: each chunk is a transaction that keeps a core
    /// busy, so more chunks at once than cores add contention, not speed, and slow the console's reads during a run.
    /// Unset, one more than the node's cores.
    /// </summary>
    [Range(1, 100)] public int? BillingWorkerCount { get; set; }
    public int BillingWorkers => BillingWorkerCount ?? Environment.ProcessorCount + 1;
    /// <summary>Queues this node serves, most urgent first.</summary>
    public string[] Queues { get; set; } = ["billing", "dunning_retry", "default"];
    public string SchemaName { get; set; } = "hangfire";
    [Range(1, 60)] public int PollingIntervalSeconds { get; set; } = 2;
    /// <summary>
    /// How long a job fetched by a node that then died stays invisible before another node (or the restarted one) takes it
    /// again. Running jobs keep extending it (a sliding timeout), so it can be short without a long job being taken twice.
    /// </summary>
    [Range(5, 3600)] public int InvisibilityTimeoutSeconds { get; set; } = 300;
    /// <summary>Off in tests that drive jobs by hand.</summary>
    public bool RunServer { get; set; } = true;
}

/// <summary>appsettings.json "Gateway": which card processor charges, and how long a charge may take.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>"sandbox" (in-process, deterministic by token prefix) or "stripe" (Stripe's API, see <see cref="Stripe"/>).</summary>
    [Required] public string Mode { get; set; } = "sandbox";
    /// <summary>The deadline of one charge or look-up: past it the attempt is recorded as unknown (ERR_GATEWAY_TIMEOUT).</summary>
    [Range(50, 120_000)] public int ChargeTimeoutMs { get; set; } = 10_000;
    /// <summary>
    /// How often a charge or look-up that failed fast (5xx, reset connection) is made again within its deadline, under the
    /// same idempotency key; 0 turns it off. A call that reached its deadline is never repeated: reconciliation settles it.
    /// </summary>
    [Range(0, 5)] public int RetryAttempts { get; set; } = 2;
    /// <summary>The wait before the first repeat, doubled before each further one.</summary>
    [Range(0, 10_000)] public int RetryDelayMs { get; set; } = 200;
    /// <summary>
    /// How old an unknown or pending attempt must be before the reconciliation job looks it up: long enough for a charge in
    /// flight to finish and for Stripe's search to index it (about a minute).
    /// </summary>
    [Range(0, 86_400)] public int ReconcileGraceSeconds { get; set; } = 180;
    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();
    public SandboxGatewayOptions Sandbox { get; set; } = new();
    public StripeGatewayOptions Stripe { get; set; } = new();
}

/// <summary>appsettings.json "Gateway:CircuitBreaker": when charging pauses because the gateway is failing, and for how long.</summary>
public sealed class CircuitBreakerOptions
{
    /// <summary>Gateway faults (timeouts, 5xx, connection resets) within <see cref="WindowSeconds"/> that open the breaker. Declines never count.</summary>
    [Range(1, 10_000)] public int FailureThreshold { get; set; } = 5;
    [Range(1, 86_400)] public int WindowSeconds { get; set; } = 60;
    /// <summary>How long charging pauses before one trial charge is let through.</summary>
    [Range(1, 86_400)] public int BreakSeconds { get; set; } = 60;
    /// <summary>How often a node re-reads the shared state while nothing changes it locally.</summary>
    [Range(100, 60_000)] public int RefreshMs { get; set; } = 1_000;
}

/// <summary>appsettings.json "Gateway:Stripe": where Stripe's API is and the secret key to call it with.</summary>
public sealed class StripeGatewayOptions
{
    /// <summary>Stripe's API; another address only for a local stand-in in tests.</summary>
    public string ApiBase { get; set; } = "https://api.stripe.com";
    /// <summary>The secret key (sk_live_… or sk_test_…), from the environment (Gateway__Stripe__ApiKey), never the repository or a log.</summary>
    public string ApiKey { get; set; } = string.Empty;
    /// <summary>
    /// The publishable key (pk_live_… or pk_test_…) Stripe.js runs with on the customer's pay page, where they confirm a
    /// payment their bank wants authenticated. Not a secret. Empty: the pay page cannot confirm payments and says so.
    /// </summary>
    public string PublishableKey { get; set; } = string.Empty;
}

/// <summary>appsettings.json "Gateway:Sandbox": simulated network behaviour.</summary>
public sealed class SandboxGatewayOptions
{
    /// <summary>Added to every call; 0 in tests.</summary>
    [Range(0, 60_000)] public int LatencyMs { get; set; }
    /// <summary>Extra latency of pm_slow_ tokens, which still succeed.</summary>
    [Range(0, 60_000)] public int SlowLatencyMs { get; set; } = 1_500;
    /// <summary>How long a pm_timeout_ charge hangs before the sandbox itself gives up (the caller's deadline usually comes first).</summary>
    [Range(0, 600_000)] public int TimeoutMs { get; set; } = 30_000;
}

/// <summary>appsettings.json "DatabaseMonitor": how quickly a node notices that it lost PostgreSQL and turns read-only.</summary>
public sealed class DatabaseMonitorOptions
{
    public const string Section = "DatabaseMonitor";

    [Range(100, 60_000)] public int ProbeIntervalMs { get; set; } = 1_000;
    /// <summary>How long one probe (connect and "select 1") may take before it counts as failed.</summary>
    [Range(1, 60)] public int ProbeTimeoutSeconds { get; set; } = 2;
    /// <summary>Consecutive failed probes before the node turns read-only; one answered probe turns it writable again.</summary>
    [Range(1, 10)] public int FailuresBeforeReadOnly { get; set; } = 2;
}

/// <summary>How the console's lists read at a million rows (see <c>ListQuery</c>).</summary>
public sealed class ListOptions
{
    public const string Section = "Lists";

    /// <summary>How long a list's count may take before the page is shown without it ("of many").</summary>
    [Range(10, 10_000)] public int CountBudgetMs { get; set; } = 100;
    /// <summary>
    /// Up to this many customers matching a search are looked up by id first. More (judged from a 1% sample, then from the
    /// matches themselves) means the text is common (a frequent surname, a shared domain), and the list is read in its own
    /// order keeping the rows whose customer matches, which soon fills a page. At a million customers both ways cost about the
    /// same at this size: a lookup per matching customer, or one per row read.
    /// </summary>
    [Range(1, 1_000_000)] public int SearchedCustomersCap { get; set; } = 10_000;
}

/// <summary>appsettings.json "PayPage": the customer's own page for replacing a card, reached from emails.</summary>
public sealed class PayPageOptions
{
    public const string Section = "PayPage";

    /// <summary>The address customers reach this product at; links in emails start with it.</summary>
    [Required, Url] public string PublicBaseUrl { get; set; } = "http://127.0.0.1:8080";
    /// <summary>Days a link stays usable after it was made.</summary>
    [Range(1, 90)] public int LinkLifetimeDays { get; set; } = 14;
}

/// <summary>
/// appsettings.json "KeyRing": how the data protection keys shared by every node (in PostgreSQL) are protected at rest. The
/// certificate comes from the secrets file (an environment variable holding a base64 PKCS#12 file), never from appsettings.json.
/// </summary>
public sealed class KeyRingOptions
{
    public const string Section = "KeyRing";

    /// <summary>A PKCS#12 (.pfx) certificate with its private key, base64-encoded; the keys are encrypted to it.</summary>
    public string? Certificate { get; set; }
    public string? CertificatePassword { get; set; }
}

/// <summary>appsettings.json "Telemetry": who may scrape the metrics and where traces go.</summary>
public sealed class TelemetryOptions : IValidatableObject
{
    public const string Section = "Telemetry";

    /// <summary>CIDR ranges allowed to read /metrics (the Prometheus server's); loopback when empty.</summary>
    public List<string> MetricsNetworks { get; set; } = [];

    /// <summary>An OTLP collector (e.g. "http://127.0.0.1:4317"); no traces are exported when empty.</summary>
    public string? OtlpEndpoint { get; set; }

    public IReadOnlyList<System.Net.IPNetwork> Networks() => MetricsNetworks.Count == 0
        ? [System.Net.IPNetwork.Parse("127.0.0.0/8"), System.Net.IPNetwork.Parse("::1/128")]
        : [.. MetricsNetworks.Select(n => System.Net.IPNetwork.Parse(n))];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var network in MetricsNetworks.Where(n => !System.Net.IPNetwork.TryParse(n, out _)))
            yield return new ValidationResult($"Telemetry:MetricsNetworks holds '{network}', which is not a CIDR range (e.g. '10.0.0.0/8').");
        if (OtlpEndpoint is { Length: > 0 } endpoint && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
            yield return new ValidationResult($"Telemetry:OtlpEndpoint '{endpoint}' is not an absolute URL (e.g. 'http://127.0.0.1:4317').");
    }
}

/// <summary>How the SMTP connection is secured.</summary>
public enum EmailTlsMode { None, StartTls, SslOnConnect }

/// <summary>appsettings.json "Email": the SMTP server that delivers customer notifications.</summary>
public sealed class EmailOptions
{
    public const string Section = "Email";

    [Required(ErrorMessage = "Email:Host is missing: the SMTP server that sends customer emails.")]
    public string Host { get; set; } = "127.0.0.1";
    [Range(1, 65_535)] public int Port { get; set; } = 25;
    public EmailTlsMode Tls { get; set; } = EmailTlsMode.None;
    /// <summary>Empty for a server that needs no sign-in.</summary>
    public string User { get; set; } = string.Empty;
    /// <summary>From the environment (Email__Password), never the repository or a log.</summary>
    public string Password { get; set; } = string.Empty;
    /// <summary>The sender customers see, e.g. "Acme Billing &lt;billing@acme.example&gt;".</summary>
    [Required] public string From { get; set; } = "BillingConsole <billing@billingconsole.local>";
    /// <summary>Where customers' replies go; empty for the From address.</summary>
    public string ReplyTo { get; set; } = string.Empty;
    /// <summary>Most emails sent in any minute, over all nodes together (mail providers throttle senders that go faster).</summary>
    [Range(1, 100_000)] public int PerMinuteRate { get; set; } = 600;
    /// <summary>
    /// An email still unsent this many hours after its event is not sent at all (not sent, "too late"): a receipt, a
    /// payment-failed notice or a "retry scheduled" that late would mislead more than inform.
    /// </summary>
    [Range(1, 8_760)] public int GiveUpAfterHours { get; set; } = 72;
    /// <summary>How long connecting or sending one message may take.</summary>
    [Range(1, 300)] public int TimeoutSeconds { get; set; } = 30;
    /// <summary>A web inbox showing what the SMTP server received (the local one of ./run.sh); linked from the console in Development.</summary>
    public string InboxUrl { get; set; } = string.Empty;
}

/// <summary>appsettings.json "Events": how outgoing events are delivered to the endpoints admins register.</summary>
public sealed class EventsOptions : IValidatableObject
{
    public const string Section = "Events";

    /// <summary>
    /// CIDR ranges an endpoint may be in although they are loopback, link-local or private (e.g. a receiver on the same
    /// network); empty: endpoints must be on public addresses.
    /// </summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>At most this many deliveries to one endpoint are in flight at once, over all nodes.</summary>
    [Range(1, 50)] public int MaxInFlightPerEndpoint { get; set; } = 4;

    /// <summary>How many deliveries one node sends at once (over all endpoints).</summary>
    [Range(1, 64)] public int DeliveryLanes { get; set; } = 8;

    /// <summary>How long a receiver has to answer, connection included.</summary>
    [Range(1, 60)] public int TimeoutSeconds { get; set; } = 10;

    public IReadOnlyList<System.Net.IPNetwork> Networks() => [.. AllowedNetworks.Select(n => System.Net.IPNetwork.Parse(n))];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        AllowedNetworks.Where(n => !System.Net.IPNetwork.TryParse(n, out _))
            .Select(n => new ValidationResult($"Events:AllowedNetworks holds '{n}', which is not a CIDR range (e.g. '10.0.0.0/8')."));
}
