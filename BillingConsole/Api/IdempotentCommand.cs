using BillingConsole.Engine.Telemetry;
using System.Text;
using System.Text.Json;
using BillingConsole.Configuration;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence.Idempotency;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace BillingConsole.Api;

/// <summary>Runs a mutating API command under the request's Idempotency-Key (see <see cref="IdempotencyStore"/>).</summary>
public static class IdempotentCommand
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <param name="operation">Names the endpoint: a key reused on another endpoint is a conflict.</param>
    /// <param name="request">What identifies the request: route values and the bound body. Its SHA-256 is the fingerprint.</param>
    /// <param name="afterCommit">Work that must follow the command's commit, not share its transaction (a charge); run once,
    /// when the command ran, never for a replayed response.</param>
    public static async Task<IResult> RunAsync<T>(HttpContext http, string operation, object request, int successStatus,
        Func<Actor, string, CancellationToken, Task<T>> command, Func<T, Actor, CancellationToken, Task>? afterCommit = null)
    {
        var services = http.RequestServices;
        var json = services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var caller = ApiCaller.From(http.User);
        var headers = http.Request.Headers[Header];

        if (headers.Count == 0)
        {
            if (services.GetRequiredService<IOptionsMonitor<BillingOptions>>().CurrentValue.EnforceIdempotencyKeys)
                return ApiProblems.Invalid(Header, $"The {Header} header is required on requests that change data: send a new UUID for each distinct request.");
            var result = await command(caller.Actor, $"API {operation}", http.RequestAborted);
            if (afterCommit is not null) await afterCommit(result, caller.Actor, http.RequestAborted);
            return Json(http, successStatus, JsonSerializer.Serialize(result, json), replayed: false);
        }
        if (headers.Count > 1 || !Guid.TryParseExact(headers[0], "D", out var key) || key == Guid.Empty)
            return ApiProblems.Invalid(Header, $"The {Header} header must be one UUID, e.g. {Guid.NewGuid()}.");

        var fingerprint = RequestFingerprint.Of(new { caller.KeyId, operation, request });
        var executed = default(T);
        var outcome = await services.GetRequiredService<IdempotencyStore>().ExecuteAsync(key, operation, fingerprint,
            async ct =>
            {
                executed = await command(caller.Actor, $"API {operation}, {Header} {key}", ct);
                return new StoredResponse(successStatus, JsonSerializer.Serialize(executed, json));
            },
            http.RequestAborted);
        if (outcome.Result == IdempotencyResult.Executed && afterCommit is not null) await afterCommit(executed!, caller.Actor, http.RequestAborted);
        if (outcome.Result == IdempotencyResult.Replayed) services.GetRequiredService<EngineTelemetry>().IdempotentReplay(operation);

        return outcome.Result switch
        {
            IdempotencyResult.Executed => Json(http, outcome.Response!.StatusCode, outcome.Response.Body, replayed: false),
            IdempotencyResult.Replayed => Json(http, outcome.Response!.StatusCode, outcome.Response.Body, replayed: true),
            IdempotencyResult.Conflict => ApiProblems.Status(StatusCodes.Status409Conflict,
                "This Idempotency-Key was already used with a different request."),
            _ => StillRunning(http),
        };
    }

    private static IResult Json(HttpContext http, int status, string body, bool replayed)
    {
        if (replayed) http.Response.Headers[ReplayedHeader] = "true";
        return Results.Content(body, "application/json", Encoding.UTF8, status);
    }

    private static IResult StillRunning(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "1";
        return ApiProblems.Status(StatusCodes.Status409Conflict,
            "A request with this Idempotency-Key is still being processed; retry shortly to get its result.");
    }
}
