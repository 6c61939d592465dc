using BillingConsole.Persistence.Availability;

namespace BillingConsole.Api;

/// <summary>
/// While the node is read-only, upstream API calls and gateway webhooks are answered 503 with the read-only sentence and
/// a Retry-After, before anything (even the API-key look-up) needs the database. Gateways deliver the webhook again later.
/// A call that meets a lost database in the moments before the monitor has noticed gets the same answer, not a 500: the
/// monitor is asked to probe at once, and the answer is the read-only one unless PostgreSQL did answer that probe.
/// </summary>
public sealed class ReadOnlyRefusal(RequestDelegate next, ReadOnlyState state, DatabaseMonitor monitor, TimeProvider clock)
{
    public const int RetryAfterSeconds = 5;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!ApiProblems.IsForPrograms(context.Request))
        {
            await next(context);
            return;
        }
        if (state.Current is { } status)
        {
            await RefuseAsync(context, status);
            return;
        }
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && DatabaseConnectionLoss.Is(e))
        {
            // PostgreSQL answered after all: the failure was this request's own, and stays a 500.
            if (await monitor.ProbeNowAsync(context.RequestAborted)) throw;
            await RefuseAsync(context, state.Current ?? new ReadOnlyState.Status(DatabaseMonitor.LostReason, clock.GetUtcNow()));
        }
    }

    private static Task RefuseAsync(HttpContext context, ReadOnlyState.Status status)
    {
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
        return ApiProblems.Status(StatusCodes.Status503ServiceUnavailable, status.Explanation).ExecuteAsync(context);
    }
}
