using System.Security.Cryptography;

namespace BillingConsole.Extensions;

/// <summary>
/// Security headers on every response. The console's Content-Security-Policy allows scripts only from this origin plus the
/// one inline script Blazor writes (its import map), which carries a per-request nonce; styles may be inline because
/// MudBlazor sets style attributes; the circuit's WebSocket is same-origin. The Hangfire dashboard at /jobs writes inline
/// scripts and styles of its own, so it gets a policy of its own, still same-origin only and never framed.
/// </summary>
public static class SecurityHeaders
{
    private const string NonceKey = "csp-nonce";
    public const string HangfirePath = "/jobs";

    private const string Sources = "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; img-src 'self' data:; font-src 'self' data:";
    private const string Common = $"{Sources}; connect-src 'self' ws: wss:";

    public static string ConsolePolicy(string nonce) => $"{Common}; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'";

    /// <summary>
    /// The customer's pay page while it confirms a payment with Stripe.js, in Stripe mode only: Stripe's script, the frames it
    /// opens for the bank's authentication and its API, as Stripe lists them for a Content-Security-Policy; nothing else.
    /// </summary>
    public static string StripePayPagePolicy(string nonce) =>
        $"{Sources}; connect-src 'self' {StripeApi}; script-src 'self' 'nonce-{nonce}' {StripeJs}; frame-src {StripeJs} https://hooks.stripe.com; style-src 'self' 'unsafe-inline'";

    private const string StripeJs = "https://js.stripe.com";
    private const string StripeApi = "https://api.stripe.com";

    public const string HangfirePolicy = $"{Common}; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'";

    /// <summary>The nonce of this request's policy, for the inline scripts the console writes itself.</summary>
    public static string CspNonce(this HttpContext context) => (string)context.Items[NonceKey]!;

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        context.Items[NonceKey] = nonce;
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments(HangfirePath) ? HangfirePolicy : ConsolePolicy(nonce);
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
        return next(context);
    });
}
