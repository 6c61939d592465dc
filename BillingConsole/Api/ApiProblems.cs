using System.Text.Json;
using BillingConsole.Domain.Common;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence.Availability;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Api;

/// <summary>RFC 9457 problem responses for the upstream API: one place decides which failure gets which status.</summary>
public static class ApiProblems
{
    /// <summary>The upstream API and the gateway webhooks: read by programs, so every answer there is JSON, never a page.</summary>
    public static bool IsForPrograms(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/hooks");

    public static IResult Status(int statusCode, string? detail = null) => Results.Problem(statusCode: statusCode, detail: detail);

    /// <summary>429 with Retry-After, the problem saying why and when to come back.</summary>
    public static Task TooManyRequestsAsync(HttpContext context, TimeSpan retryAfter, string why)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString();
        return Status(StatusCodes.Status429TooManyRequests, $"{why}: retry after {seconds} seconds; nothing was changed.").ExecuteAsync(context);
    }

    /// <summary>400 with <c>errors</c>: field path (as in the JSON body, camelCase) → what is wrong with it.</summary>
    public static IResult Invalid(IDictionary<string, string[]> errors, string? detail = null) =>
        Results.ValidationProblem(errors, detail ?? "The request has invalid fields; nothing was changed.");

    public static IResult Invalid(string field, string message) => Invalid(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>The problem for a failure a caller can act on; null for anything else (a 500 stays a 500).</summary>
    public static IResult? For(Exception exception) => exception switch
    {
        ValidationException validation => Invalid(validation.Errors
            .GroupBy(e => FieldPath(e.PropertyName))
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray())),
        ReadOnlyException readOnly => Status(StatusCodes.Status503ServiceUnavailable, readOnly.Message),
        ResourceNotFoundException notFound => Status(StatusCodes.Status404NotFound, notFound.Message),
        IllegalTransitionException illegal => Status(StatusCodes.Status409Conflict, illegal.Message),
        DomainRuleException rule => Status(StatusCodes.Status422UnprocessableEntity, rule.Message),
        DbUpdateConcurrencyException => Status(StatusCodes.Status409Conflict,
            "The record was changed by another request at the same moment; nothing was changed. Retry the request."),
        DbUpdateException { InnerException: PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } unique } =>
            Status(StatusCodes.Status409Conflict, $"This conflicts with an existing record ({unique.ConstraintName}); nothing was changed."),
        BadHttpRequestException bad => Status(bad.StatusCode, bad.Message),
        // Text no earlier check caught: the caller's, so a 400 rather than a failure of ours.
        _ when IsUnstorableText(exception) =>
            Status(StatusCodes.Status400BadRequest, "The request holds text the database cannot store (a NUL character or broken Unicode); nothing was changed."),
        _ => null,
    };

    /// <summary>PostgreSQL refused text as not valid in its encoding: NUL in a text column (22021) or a \u0000 escape in jsonb (22P05).</summary>
    public static bool IsUnstorableText(Exception exception) =>
        (exception as PostgresException ?? exception.InnerException as PostgresException)?.SqlState
            is PostgresErrorCodes.CharacterNotInRepertoire or PostgresErrorCodes.UntranslatableCharacter;

    /// <summary>"Address.Line1" → "address.line1": the names the caller used in the JSON body.</summary>
    public static string FieldPath(string propertyPath) =>
        string.Join('.', propertyPath.Split('.').Select(JsonNamingPolicy.CamelCase.ConvertName));

    /// <summary>Names and documents a mutating endpoint: its success response and the problems it may answer with.</summary>
    public static RouteHandlerBuilder Command<TResponse>(this RouteHandlerBuilder endpoint, string name, string summary,
        int status = StatusCodes.Status200OK) =>
        endpoint.WithName(name).WithSummary(summary).Produces<TResponse>(status).ProducesCommandProblems();

    /// <summary>The problems any mutating endpoint may answer with, for the OpenAPI document.</summary>
    public static RouteHandlerBuilder ProducesCommandProblems(this RouteHandlerBuilder endpoint) => endpoint
        .ProducesValidationProblem()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
        .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
}
