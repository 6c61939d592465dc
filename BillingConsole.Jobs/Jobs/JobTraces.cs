using System.Diagnostics;
using BillingConsole.Engine.Telemetry;
using Hangfire.Common;
using Hangfire.Server;

namespace BillingConsole.Jobs;

/// <summary>
/// Each job runs in a span of its own, as each request does: every line it logs carries a trace id and the job's id, so a
/// log aggregator gathers one job's lines, and a charge's lines within it, by those alone.
/// </summary>
public sealed class JobTraces : JobFilterAttribute, IServerFilter
{
    private const string SpanKey = "BillingConsole.Span";

    public void OnPerforming(PerformingContext context)
    {
        var job = context.BackgroundJob;
        var span = EngineTelemetry.Start($"job {job.Job.Type.Name}.{job.Job.Method.Name}");
        span.SetTag("hangfire.job_id", job.Id);
        context.Items[SpanKey] = span;
    }

    public void OnPerformed(PerformedContext context)
    {
        if (context.Items.TryGetValue(SpanKey, out var item) && item is Activity span) span.Stop();
    }
}
