using System.Security.Claims;
using System.Text.Encodings.Web;
using BillingConsole.Engine.Commands;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace BillingConsole.Api;

/// <summary>
/// The "ApiKey" scheme: <c>Authorization: Bearer bk_…</c> or <c>X-Api-Key: bk_…</c>, checked against the hashed keys in
/// api_keys. Used only by the /api/v1 endpoints (policy "api"); the console keeps its cookie.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Policy = "api";
    public const string HeaderName = "X-Api-Key";
    public const string KeyIdClaim = "api_key_id";
    public const string KeyPrefixClaim = "api_key_prefix";
    private const string BlockedFor = "api_key_blocked_for";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey(Request);
        if (presented is null) return AuthenticateResult.NoResult();
        var failures = Context.RequestServices.GetRequiredService<FailedApiKeyAttempts>();
        var address = Context.Connection.RemoteIpAddress?.ToString() ?? string.Empty;
        if (failures.BlockedFor(address) is { } wait)
        {
            Context.Items[BlockedFor] = wait;
            return AuthenticateResult.Fail("Too many API keys that are not valid came from this address.");
        }
        var key = await Context.RequestServices.GetRequiredService<ApiKeyVerifier>().AuthenticateAsync(presented, Context.RequestAborted);
        if (key is null)
        {
            failures.RecordFailure(address);
            return AuthenticateResult.Fail("The API key is not valid.");
        }
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.Name, key.Name),
            new Claim(KeyIdClaim, key.Id.ToString()),
            new Claim(KeyPrefixClaim, key.Prefix),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        if (Context.Items[BlockedFor] is TimeSpan wait)
        {
            await ApiProblems.TooManyRequestsAsync(Context, wait, "Too many API keys that are not valid came from this address");
            return;
        }
        Response.Headers.WWWAuthenticate = "Bearer realm=\"billing-api\"";
        await Results.Problem(statusCode: StatusCodes.Status401Unauthorized,
            detail: result.Failure is null
                ? "An API key is required: send 'Authorization: Bearer bk_…' or 'X-Api-Key: bk_…'."
                : "The API key is not valid (unknown, revoked or mistyped).").ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Results.Problem(statusCode: StatusCodes.Status403Forbidden, detail: "This API key may not do that.").ExecuteAsync(Context);

    private static string? PresentedKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return authorization["Bearer ".Length..].Trim();
        var header = request.Headers[HeaderName].ToString().Trim();
        return header.Length > 0 ? header : null;
    }
}

/// <summary>The API key behind the current request.</summary>
public sealed record ApiCaller(Guid KeyId, string Name)
{
    public Actor Actor => Actor.ApiKey(Name);

    public static ApiCaller From(ClaimsPrincipal user) =>
        new(Guid.Parse(user.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim)
                       ?? throw new InvalidOperationException("The request was not authenticated with an API key.")),
            user.Identity?.Name ?? "unknown");
}
