using BillingConsole.Persistence.Availability;

namespace BillingConsole.Api;

/// <summary>
/// While the node is read-only, upstream API calls and gateway webhooks are answered 503 with the read-only sentence and
/// a Retry-After, before anything (even the API-key look-up) needs the database. Gateways deliver the webhook again later.
/// </summary>
public sealed class ReadOnlyRefusal(RequestDelegate next, ReadOnlyState state)
{
    public const int RetryAfterSeconds = 5;

    public Task InvokeAsync(HttpContext context)
    {
        if (state.Current is not { } status || !Applies(context.Request)) return next(context);
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
        return ApiProblems.Status(StatusCodes.Status503ServiceUnavailable, status.Explanation).ExecuteAsync(context);
    }

    private static bool Applies(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/hooks");
}
