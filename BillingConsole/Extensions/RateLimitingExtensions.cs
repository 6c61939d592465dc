using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using BillingConsole.Api;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace BillingConsole.Extensions;

/// <summary>
/// appsettings.json "RateLimits": requests allowed per window, per API key on /api/v1 and per address on /hooks and /pay, and
/// API keys that may fail to authenticate per address.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    [Range(1, 1_000_000)] public int ApiPerKey { get; set; } = 1200;
    [Range(1, 1_000_000)] public int WebhooksPerAddress { get; set; } = 6000;
    [Range(1, 1_000_000)] public int FailedApiKeysPerAddress { get; set; } = 20;
    /// <summary>Requests to the customer's pay page (/pay) per address: enough for a person, too few to try links by the thousand.</summary>
    [Range(1, 1_000_000)] public int PayPagePerAddress { get; set; } = 30;
    [Range(1, 3_600)] public int WindowSeconds { get; set; } = 60;
}

public static class RateLimitingExtensions
{
    public const string ApiPolicy = "api-per-key";
    public const string WebhookPolicy = "webhooks-per-address";
    public const string PayPagePolicy = "pay-page-per-address";

    /// <summary>Fixed-window limits; a refused request gets 429 with a problem body and Retry-After.</summary>
    public static IHostApplicationBuilder AddRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // Authentication runs before the rate limiter, so guessed keys are counted by the key handler itself.
        builder.Services.AddSingleton<FailedApiKeyAttempts>();
        builder.Services.AddRateLimiter(options =>
        {
            // Runs after authorization, so the API caller is known: each key has its own window.
            options.AddPolicy(ApiPolicy, context => Window(context, limits => limits.ApiPerKey,
                "key:" + (context.User.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)?.Value ?? "none")));
            options.AddPolicy(WebhookPolicy, context => Window(context, limits => limits.WebhooksPerAddress,
                "address:" + context.Connection.RemoteIpAddress));
            options.AddPolicy(PayPagePolicy, context => Window(context, limits => limits.PayPagePerAddress,
                "pay:" + context.Connection.RemoteIpAddress));
            options.OnRejected = (rejected, _) =>
            {
                var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
                return new ValueTask(rejected.HttpContext.Request.Path.StartsWithSegments("/pay")
                    ? PayPage.PayPageEndpoints.TooManyRequestsAsync(rejected.HttpContext, wait)
                    : ApiProblems.TooManyRequestsAsync(rejected.HttpContext, wait, "Too many requests"));
            };
        });
        return builder;
    }

    private static RateLimitPartition<string> Window(HttpContext context, Func<RateLimitOptions, int> permits, string key)
    {
        var limits = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        return RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits(limits),
            Window = TimeSpan.FromSeconds(limits.WindowSeconds),
            QueueLimit = 0,
        });
    }
}
