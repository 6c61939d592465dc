using System.Text;
using BillingConsole.Configuration;
using BillingConsole.Engine.PayPage;
using BillingConsole.Extensions;
using BillingConsole.Gateways;
using BillingConsole.Persistence.Availability;
using FluentValidation;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;

namespace BillingConsole.PayPage;

/// <summary>
/// <c>/pay/{token}</c>: the customer's own page for replacing their card, reached from a link the business sent them, with
/// no sign-in and outside the console's layout. Rate limited per address; the form carries an antiforgery token; a bad
/// link, a bad card or a node that cannot write gets a page saying so, with nothing changed.
/// </summary>
public static class PayPageEndpoints
{
    public static IEndpointRouteBuilder MapPayPage(this IEndpointRouteBuilder app)
    {
        var pay = app.MapGroup("/pay").AllowAnonymous().ExcludeFromDescription().RequireRateLimiting(RateLimitingExtensions.PayPagePolicy);
        pay.MapGet("/{token}", ShowAsync);
        // Antiforgery is checked by the handler, so a failed check gets this page's own answer.
        pay.MapPost("/{token}", SubmitAsync).DisableAntiforgery();
        pay.MapPost("/{token}/confirm", ConfirmAsync).DisableAntiforgery();
        pay.MapPost("/{token}/stripe", StartStripeSetupAsync).DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> ShowAsync(string token, HttpContext context, CustomerPayPage payPage, IAntiforgery antiforgery,
        IOptionsMonitor<BillingOptions> billing, IOptionsMonitor<GatewayOptions> gateway, ILoggerFactory loggers)
    {
        try
        {
            var opening = await payPage.OpenAsync(token, context.RequestAborted);
            if (opening.Page is not { } page) return RefusedPage(opening.Refusal!.Value);
            var stripe = await StripeConfirmationAsync(page, context, payPage, gateway.CurrentValue.Stripe.PublishableKey, loggers);
            return FormPage(context, page, SellerOf(billing), token, antiforgery, error: null, StatusCodes.Status200OK, stripe);
        }
        catch (Exception e) when (RefusalPage(e, context, loggers) is { } answer)
        {
            return answer;
        }
    }

    /// <summary>
    /// In Stripe mode, when the bank holds a payment for the customer's authentication: the client secrets Stripe.js confirms
    /// it with, and Stripe's script, frames and API allowed by this answer's policy. Null outside that case, and when no
    /// publishable key is configured (the page then says it cannot confirm the payment).
    /// </summary>
    private static async Task<StripeConfirmation?> StripeConfirmationAsync(PayPageView page, HttpContext context, CustomerPayPage payPage,
        string publishableKey, ILoggerFactory loggers)
    {
        if (page.Gateway != StripeGateway.GatewayName || !page.Invoices.Any(i => i.AwaitingAuthentication)) return null;
        if (string.IsNullOrWhiteSpace(publishableKey))
        {
            loggers.CreateLogger(typeof(PayPageEndpoints)).LogWarning(
                "A customer could not confirm a payment on the pay page: Gateway:Stripe:PublishableKey is not configured");
            return null;
        }
        var secrets = await payPage.StripeClientSecretsAsync(page, context.RequestAborted);
        var nonce = context.CspNonce();
        // Stripe is allowed only where its script is loaded: an intent already settled needs none.
        if (secrets.Count > 0) context.Response.Headers.ContentSecurityPolicy = SecurityHeaders.StripePayPagePolicy(nonce);
        return new StripeConfirmation(publishableKey, secrets, nonce);
    }

    private static async Task<IResult> SubmitAsync(string token, HttpContext context, CustomerPayPage payPage, IAntiforgery antiforgery,
        IOptionsMonitor<BillingOptions> billing, ILoggerFactory loggers)
    {
        var seller = SellerOf(billing);
        if (!await IsGenuineFormAsync(context, antiforgery)) return ExpiredForm();
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var card = form[PayPageHtml.CardField].ToString();
        try
        {
            var submitted = await payPage.AttachSandboxCardAsync(token, card, context.RequestAborted);
            if (submitted.Refusal is { } refusal) return RefusedPage(refusal);
            return Html(PayPageHtml.Outcome(submitted.Update!, seller, submitted.NextToken), StatusCodes.Status200OK);
        }
        catch (ValidationException invalid)
        {
            var opening = await payPage.OpenAsync(token, context.RequestAborted);
            if (opening.Page is not { } page) return RefusedPage(opening.Refusal!.Value);
            var error = string.Join(" ", invalid.Errors.Select(e => e.ErrorMessage).Distinct());
            return FormPage(context, page, seller, token, antiforgery, error, StatusCodes.Status400BadRequest);
        }
        catch (Exception e) when (RefusalPage(e, context, loggers) is { } answer)
        {
            return answer;
        }
    }

    private static async Task<IResult> ConfirmAsync(string token, HttpContext context, CustomerPayPage payPage, IAntiforgery antiforgery,
        IOptionsMonitor<BillingOptions> billing, ILoggerFactory loggers)
    {
        if (!await IsGenuineFormAsync(context, antiforgery)) return ExpiredForm();
        try
        {
            var confirmed = await payPage.ConfirmPaymentsAsync(token, context.RequestAborted);
            return confirmed.Refusal is { } refusal ? RefusedPage(refusal) : Html(PayPageHtml.Confirmed(confirmed.Payments, SellerOf(billing)), StatusCodes.Status200OK);
        }
        catch (Exception e) when (RefusalPage(e, context, loggers) is { } answer)
        {
            return answer;
        }
    }

    private static async Task<IResult> StartStripeSetupAsync(string token, HttpContext context, CustomerPayPage payPage, IAntiforgery antiforgery,
        ILoggerFactory loggers)
    {
        if (!await IsGenuineFormAsync(context, antiforgery)) return ExpiredForm();
        try
        {
            var started = await payPage.StartStripeSetupAsync(token, context.RequestAborted);
            return started.Refusal is { } refusal ? RefusedPage(refusal) : Results.Redirect(started.Url!);
        }
        catch (Exception e) when (RefusalPage(e, context, loggers) is { } answer)
        {
            return answer;
        }
    }

    private static async Task<bool> IsGenuineFormAsync(HttpContext context, IAntiforgery antiforgery) =>
        context.Request.HasFormContentType && await antiforgery.IsRequestValidAsync(context);

    private static IResult ExpiredForm() =>
        Html(PayPageHtml.Problem("The form has expired", "Open the link from your message again and resend the form; nothing was changed."),
            StatusCodes.Status400BadRequest);

    /// <summary>The page's answer to a rule the engine refused by, or to a node that cannot write now; null for anything else.</summary>
    private static IResult? RefusalPage(Exception e, HttpContext context, ILoggerFactory loggers)
    {
        switch (e)
        {
            case Domain.Common.DomainRuleException rule:
                return Html(PayPageHtml.Problem("Nothing was changed", rule.Message), StatusCodes.Status400BadRequest);
            case Stripe.StripeException stripe:
                loggers.CreateLogger(typeof(PayPageEndpoints)).LogWarning("Stripe refused to start a card setup: {StripeError}", stripe.StripeError?.Message ?? stripe.Message);
                return Html(PayPageHtml.Problem("Please try again shortly", "The payment provider could not be reached; nothing was changed."),
                    StatusCodes.Status503ServiceUnavailable);
            case ReadOnlyException readOnly:
                loggers.CreateLogger(typeof(PayPageEndpoints)).LogWarning("A pay page form was refused while read-only: {Reason}", readOnly.Message);
                context.Response.Headers.RetryAfter = "60";
                return Html(PayPageHtml.Problem("Please try again shortly", "The payment service is briefly unavailable; nothing was changed."),
                    StatusCodes.Status503ServiceUnavailable);
            default:
                return null;
        }
    }

    /// <summary>The rate limiter's answer on this page: a page, with Retry-After, rather than the API's problem.</summary>
    public static Task TooManyRequestsAsync(HttpContext context, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Html(PayPageHtml.Problem("Too many attempts", $"Please wait {seconds} seconds and try again; nothing was changed."),
            StatusCodes.Status429TooManyRequests).ExecuteAsync(context);
    }

    private static IResult FormPage(HttpContext context, PayPageView page, Seller seller, string token, IAntiforgery antiforgery, string? error,
        int status, StripeConfirmation? stripe = null)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return Html(PayPageHtml.Form(page, seller, token, tokens.FormFieldName, tokens.RequestToken!, error, stripe), status);
    }

    private static IResult RefusedPage(PayPageRefusal refusal) =>
        Html(PayPageHtml.Refused(refusal), refusal == PayPageRefusal.Invalid ? StatusCodes.Status404NotFound : StatusCodes.Status410Gone);

    private static Seller SellerOf(IOptionsMonitor<BillingOptions> billing) =>
        new(billing.CurrentValue.SellerName, billing.CurrentValue.SellerAddress);

    /// <summary>Never cached: the page shows what is owed now, and its links are the customer's own.</summary>
    private static IResult Html(string html, int status) => new HtmlResult(html, status);

    private sealed class HtmlResult(string html, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            context.Response.Headers.CacheControl = "no-store";
            context.Response.ContentType = "text/html; charset=utf-8";
            return context.Response.WriteAsync(html, Encoding.UTF8);
        }
    }
}
