using BillingConsole.Engine.Signing;
using Microsoft.AspNetCore.Diagnostics;
using BillingConsole.Configuration;
using BillingConsole.Engine.Telemetry;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace BillingConsole.Extensions;

/// <summary>
/// Metrics and traces with OpenTelemetry: the engine's meter, ASP.NET Core, HTTP clients and the .NET runtime on a
/// Prometheus endpoint (<c>/metrics</c>) that answers only the networks in "Telemetry:MetricsNetworks" (loopback by default);
/// traces of requests, engine work and SQL (Npgsql) sent over OTLP when "Telemetry:OtlpEndpoint" is set. Every log line
/// carries the trace and span ids of the work it belongs to (a request, a job) and the ids its spans are tagged with
/// (<c>billing.invoice_id</c>, <c>billing.customer_id</c>, <c>billing.subscription_id</c>, <c>hangfire.job_id</c>).
/// </summary>
public static class TelemetryExtensions
{
    public const string MetricsPath = "/metrics";

    /// <summary>What each log line takes from the span it is written in: its trace, span and parent ids, and its tags.</summary>
    public const ActivityTrackingOptions LogCorrelation =
        ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId | ActivityTrackingOptions.Tags;

    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = LogCorrelation);

        var telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeter(EngineTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        if (settings.OtlpEndpoint is { Length: > 0 } endpoint)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(EngineTelemetry.Name)
                // The console's own clicks (a Retry now is a Blazor event, not an HTTP request).
                .AddSource("Microsoft.AspNetCore.Components")
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !context.Request.Path.StartsWithSegments(MetricsPath))
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddOtlpExporter(otlp => otlp.Endpoint = new Uri(endpoint)));
        }
        return builder;
    }

    public static void MapMetrics(this WebApplication app)
    {
        var networks = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TelemetryOptions>>().Value.Networks();
        // Not found, not forbidden, for anyone else: the figures say how much money moves.
        app.UseWhen(context => context.Request.Path.StartsWithSegments(MetricsPath), metrics => metrics.Use((context, next) =>
        {
            // The allow-list check the webhooks use; the metrics' list is never empty (loopback by default).
            if (WebhookSignature.IsAllowed(context.Connection.RemoteIpAddress, networks)) return next(context);
            if (context.Features.Get<IStatusCodePagesFeature>() is { } statusPages) statusPages.Enabled = false;
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }));
        app.MapPrometheusScrapingEndpoint(MetricsPath);
    }
}
