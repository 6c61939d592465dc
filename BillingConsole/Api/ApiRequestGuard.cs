using System.Text.Json;
using BillingConsole.Domain.Common;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace BillingConsole.Api;

/// <summary>
/// Runs in front of every /api request: refuses bodies that are too large, not JSON, malformed, of the wrong shape for
/// the endpoint, or carrying something that looks like a card number or a control character, each with a problem that
/// names the field; and
/// turns the failures the commands report into problems. The endpoint therefore only ever sees a well-formed body.
/// </summary>
/// <remarks>
/// The body is checked against the endpoint's own request type here, before minimal-API binding, because the binder
/// answers a type mismatch with a bare 400 that does not say which field was wrong.
/// </remarks>
public sealed class ApiRequestGuard(RequestDelegate next, IOptions<JsonOptions> json)
{
    public const int MaxBodyBytes = 64 * 1024;
    private const string UnsupportedMediaType = "Send the body as JSON with 'Content-Type: application/json'.";
    private const string ControlCharacterMessage = "Text may not contain control characters (such as NUL); only tabs and line breaks are allowed.";
    private const string CardNumberMessage =
        "This looks like a card number. Card numbers must never be sent here: send the payment gateway's token instead.";

    public async Task InvokeAsync(HttpContext context)
    {
        // The console re-executes empty error responses as its HTML "not found" page; API callers get problems instead.
        if (context.Features.Get<IStatusCodePagesFeature>() is { } statusPages) statusPages.Enabled = false;
        try
        {
            if (await RefuseBodyAsync(context) is { } refusal)
            {
                await refusal.ExecuteAsync(context);
                return;
            }
            await next(context);
            var response = context.Response;
            if (!response.HasStarted && response.StatusCode >= 400 && response.ContentLength is null or 0 && string.IsNullOrEmpty(response.ContentType))
                await ApiProblems.Status(response.StatusCode, DetailFor(context)).ExecuteAsync(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && ApiProblems.For(e) is { } problem)
        {
            await problem.ExecuteAsync(context);
        }
    }

    private async Task<IResult?> RefuseBodyAsync(HttpContext context)
    {
        var request = context.Request;
        // Refused without buffering more than the limit. Kestrel's own (larger) limit is left alone so that it can drain the
        // unread rest and the client reads this 413 instead of a reset connection.
        if (request.ContentLength > MaxBodyBytes) return TooLarge();
        var accepts = context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>();
        if (accepts?.RequestType is not { } requestType) return null;

        var body = await ReadUpToLimitAsync(request.Body, MaxBodyBytes, context.RequestAborted);
        if (body is null) return TooLarge();
        request.Body = new MemoryStream(body, writable: false);
        if (body.Length == 0)
            return accepts.IsOptional ? null : ApiProblems.Status(StatusCodes.Status400BadRequest, "This request needs a JSON body.");
        if (!IsJson(request.ContentType))
            return ApiProblems.Status(StatusCodes.Status415UnsupportedMediaType, UnsupportedMediaType);

        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return ApiProblems.Status(StatusCodes.Status400BadRequest, "The request body must be a JSON object.");
            foreach (var (field, value) in Values(document.RootElement, string.Empty))
            {
                if (CardNumbers.LooksLikeCardNumber(value))
                    return ApiProblems.Invalid(new Dictionary<string, string[]> { [field] = [CardNumberMessage] }, "The request was refused; nothing was stored.");
                if (value.Any(IsRefusedControlCharacter))
                    return ApiProblems.Invalid(field, ControlCharacterMessage);
            }
        }
        catch (JsonException e)
        {
            return ApiProblems.Status(StatusCodes.Status400BadRequest, $"The request body is not valid JSON: {e.Message}");
        }

        try
        {
            JsonSerializer.Deserialize(body, requestType, json.Value.SerializerOptions);
        }
        catch (JsonException e)
        {
            return ApiProblems.Invalid(FieldOf(e.Path), "The value has the wrong type for this field.");
        }
        return null;
    }

    /// <summary>For answers that routing gives before any endpoint runs.</summary>
    private static string? DetailFor(HttpContext context) => context.Response.StatusCode switch
    {
        StatusCodes.Status404NotFound => $"There is nothing at {context.Request.Path}.",
        StatusCodes.Status405MethodNotAllowed => $"{context.Request.Path} does not accept {context.Request.Method}.",
        StatusCodes.Status415UnsupportedMediaType => UnsupportedMediaType,
        _ => null,
    };

    /// <summary>The whole body, or null when it is longer than <paramref name="maxBytes"/>.</summary>
    internal static async Task<byte[]?> ReadUpToLimitAsync(Stream body, int maxBytes, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > maxBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static IResult TooLarge() =>
        ApiProblems.Status(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {MaxBodyBytes / 1024} KB.");

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.MediaType.Value?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>Every string and number in the body, at any depth, with its field path.</summary>
    private static IEnumerable<(string Field, string Value)> Values(JsonElement element, string path) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => Values(p.Value, path.Length == 0 ? p.Name : $"{path}.{p.Name}")),
        JsonValueKind.Array => element.EnumerateArray().SelectMany((item, i) => Values(item, $"{path}[{i}]")),
        JsonValueKind.String => [(path, element.GetString()!)],
        JsonValueKind.Number => [(path, element.GetRawText())],
        _ => [],
    };

    /// <summary>Control characters other than tab and line breaks: NUL cannot be stored in PostgreSQL text, and the rest only hide things.</summary>
    private static bool IsRefusedControlCharacter(char c) => char.IsControl(c) && c is not ('\t' or '\n' or '\r');

    /// <summary>"$.address.line1" → "address.line1".</summary>
    private static string FieldOf(string? jsonPath) =>
        string.IsNullOrEmpty(jsonPath) || jsonPath == "$" ? "body" : jsonPath.StartsWith("$.") ? jsonPath[2..] : jsonPath.TrimStart('$');
}
