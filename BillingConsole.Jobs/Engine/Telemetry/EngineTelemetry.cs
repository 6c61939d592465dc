using System.Diagnostics;
using System.Diagnostics.Metrics;
using BillingConsole.Gateways;

namespace BillingConsole.Engine.Telemetry;

/// <summary>
/// The engine's metrics and trace spans, under one name ("BillingConsole") that the host exports (Prometheus, OTLP). Counters
/// and the gateway latency are recorded where the work happens; figures read from the database (backlogs, queue depths) are
/// observed by <c>OperationalGauges</c> on the same meter.
/// </summary>
public sealed class EngineTelemetry
{
    public const string Name = "BillingConsole";

    /// <summary>Spans of engine commands and jobs; requests and SQL come from the ASP.NET Core and Npgsql sources.</summary>
    public static readonly ActivitySource Activities = new(Name);

    /// <summary>
    /// A span of engine work, recorded when traces are collected and otherwise still current, so that the lines logged in it
    /// carry its trace id and its <c>billing.*</c> tags (the invoice, customer, subscription it works on).
    /// </summary>
    public static Activity Start(string name) => Activities.StartActivity(name) ?? new Activity(name).Start();

    /// <summary>Tags the current span with the ids of what it works on; the log lines written in it carry them.</summary>
    public static void Tag(Guid? invoiceId = null, Guid? customerId = null, Guid? subscriptionId = null)
    {
        if (Activity.Current is not { } current) return;
        if (invoiceId is { } invoice) current.SetTag("billing.invoice_id", invoice);
        if (customerId is { } customer) current.SetTag("billing.customer_id", customer);
        if (subscriptionId is { } subscription) current.SetTag("billing.subscription_id", subscription);
    }

    private readonly Counter<long> _charges;
    private readonly Histogram<double> _gatewayLatency;
    private readonly Counter<long> _subscriptionsBilled;
    private readonly Counter<long> _invoicesIssued;
    private readonly Counter<long> _idempotentReplays;

    public EngineTelemetry(IMeterFactory meters)
    {
        Meter = meters.Create(Name);
        _charges = Meter.CreateCounter<long>("billing.charges", "{charge}", "Charges answered by the gateway, by outcome and decline code.");
        _gatewayLatency = Meter.CreateHistogram<double>("billing.gateway.duration", "s", "Time a charge took at the gateway, retries within the deadline included.");
        _subscriptionsBilled = Meter.CreateCounter<long>("billing.run.subscriptions", "{subscription}", "Subscriptions renewed by billing runs.");
        _invoicesIssued = Meter.CreateCounter<long>("billing.invoices.issued", "{invoice}", "Invoices issued by billing runs.");
        _idempotentReplays = Meter.CreateCounter<long>("billing.idempotency.replays", "{request}", "Requests answered from an idempotency key's stored response.");
    }

    public Meter Meter { get; }

    public void ChargeAnswered(string gateway, GatewayChargeResult result, TimeSpan elapsed)
    {
        var outcome = new KeyValuePair<string, object?>("outcome", result.Outcome.ToString().ToLowerInvariant());
        var gatewayTag = new KeyValuePair<string, object?>("gateway", gateway);
        _charges.Add(1, outcome, gatewayTag, new KeyValuePair<string, object?>("decline_code", result.DeclineCode ?? ""));
        _gatewayLatency.Record(elapsed.TotalSeconds, outcome, gatewayTag);
    }

    public void SubscriptionsBilled(int renewed, int invoicesIssued)
    {
        _subscriptionsBilled.Add(renewed);
        _invoicesIssued.Add(invoicesIssued);
    }

    public void IdempotentReplay(string operation) => _idempotentReplays.Add(1, new KeyValuePair<string, object?>("operation", operation));
}
