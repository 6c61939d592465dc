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
/// the endpoint, or carrying something that looks like a card number, a control character or text that is not valid
/// Unicode, each with a problem that names the field; and turns empty error answers into problems. The endpoint therefore
/// only ever sees a well-formed body. Exceptions become problems in <see cref="ErrorsAsProblems"/>.
/// </summary>
/// <remarks>
/// The body is checked against the endpoint's own request type here, before minimal-API binding, because the binder
/// answers a type mismatch with a bare 400 that does not say which field was wrong.
/// </remarks>
public sealed class ApiRequestGuard(RequestDelegate next, IOptions<JsonOptions> json)
{
    public const int MaxBodyBytes = 64 * 1024;
    private const string UnsupportedMediaType = "Send the body as JSON with 'Content-Type: application/json'.";
    private const string CardNumberMessage =
        "This looks like a card number. Card numbers must never be sent here: send the payment gateway's token instead.";

    public async Task InvokeAsync(HttpContext context)
    {
        // The console re-executes empty error responses as its HTML "not found" page; API callers get problems instead.
        if (context.Features.Get<IStatusCodePagesFeature>() is { } statusPages) statusPages.Enabled = false;
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
            foreach (var (field, value) in JsonText.Values(document.RootElement))
            {
                if (value is null) return ApiProblems.Invalid(field, JsonText.UndecodableMessage);
                if (CardNumbers.LooksLikeCardNumber(value))
                    return ApiProblems.Invalid(new Dictionary<string, string[]> { [field] = [CardNumberMessage] }, "The request was refused; nothing was stored.");
                if (PlainText.Fault(value) is not null) return ApiProblems.Invalid(field, PlainText.Explain(value));
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

    /// <summary>"$.address.line1" → "address.line1".</summary>
    private static string FieldOf(string? jsonPath) =>
        string.IsNullOrEmpty(jsonPath) || jsonPath == "$" ? "body" : jsonPath.StartsWith("$.") ? jsonPath[2..] : jsonPath.TrimStart('$');
}
