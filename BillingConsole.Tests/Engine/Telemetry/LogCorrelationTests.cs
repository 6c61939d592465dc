using System.Diagnostics;
using BillingConsole.Engine.Telemetry;
using BillingConsole.Extensions;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace BillingConsole.Tests.Engine.Telemetry;

/// <summary>
/// A line logged inside engine work carries what a log aggregator needs to gather it: the trace id of its span and the ids
/// of the invoice, customer and subscription the span is tagged with, through the logging options the host uses. The span
/// exists whether or not traces are collected.
/// </summary>
[PureTests]
public sealed class LogCorrelationTests
{
    [Fact]
    public void A_line_logged_in_a_charge_carries_its_trace_id_and_the_invoice_customer_and_subscription_ids()
    {
        var recorder = new ScopeRecorder();
        using var factory = LoggerFactory.Create(logging =>
        {
            logging.Configure(options => options.ActivityTrackingOptions = TelemetryExtensions.LogCorrelation);
            logging.AddProvider(recorder);
        });
        var logger = factory.CreateLogger("charge");
        var (invoice, customer, subscription) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        string traceId;
        using (var span = EngineTelemetry.Start("charge invoice"))
        {
            traceId = span.TraceId.ToString();
            EngineTelemetry.Tag(invoice, customer, subscription);
            logger.LogWarning("The gateway declined the charge");
        }
        logger.LogWarning("Outside any span");

        var inside = recorder.Lines[0];
        Assert.Equal(traceId, inside["TraceId"]);
        Assert.Equal(invoice.ToString(), inside["billing.invoice_id"]);
        Assert.Equal(customer.ToString(), inside["billing.customer_id"]);
        Assert.Equal(subscription.ToString(), inside["billing.subscription_id"]);
        Assert.False(recorder.Lines[1].ContainsKey("billing.invoice_id"));
        Assert.Null(Activity.Current);
    }

    /// <summary>Records, for each line, the values of every scope it was written in, as the JSON console writes them.</summary>
    private sealed class ScopeRecorder : ILoggerProvider, ISupportExternalScope, ILogger
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();
        public List<Dictionary<string, string?>> Lines { get; } = [];

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;
        public ILogger CreateLogger(string categoryName) => this;
        public void Dispose() { }
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => _scopes.Push(state);
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = new Dictionary<string, string?>();
            _scopes.ForEachScope((scope, values) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                    foreach (var (key, value) in pairs) values[key] = value?.ToString();
            }, line);
            Lines.Add(line);
        }
    }
}
