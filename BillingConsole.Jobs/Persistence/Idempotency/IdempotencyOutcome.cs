using System.Security.Cryptography;
using System.Text.Json;

namespace BillingConsole.Persistence.Idempotency;

/// <summary>The answer given to a request, kept so that a retry with the same key gets exactly the same one.</summary>
/// <param name="Body">The response body as sent (JSON), byte for byte.</param>
public sealed record StoredResponse(int StatusCode, string Body);

public enum IdempotencyResult
{
    /// <summary>This call ran the action; its response is now stored.</summary>
    Executed,
    /// <summary>An earlier call with the same key and request ran it; this is its stored response.</summary>
    Replayed,
    /// <summary>The key was used before with another request or operation; nothing ran.</summary>
    Conflict,
    /// <summary>Another call with this key is still running after the wait; nothing ran, the caller may retry.</summary>
    StillInProgress,
}

public sealed record IdempotencyOutcome(IdempotencyResult Result, StoredResponse? Response = null)
{
    public static readonly IdempotencyOutcome Conflict = new(IdempotencyResult.Conflict);
    public static readonly IdempotencyOutcome StillInProgress = new(IdempotencyResult.StillInProgress);
}

public static class RequestFingerprint
{
    private static readonly JsonSerializerOptions Canonical = new(JsonSerializerDefaults.General) { WriteIndented = false };

    /// <summary>
    /// Lower-case hex SHA-256 of the request in canonical form: the bound values serialized in declaration order, so
    /// whitespace, property order and unknown properties in the original JSON do not make two requests differ.
    /// </summary>
    public static string Of(object canonicalRequest) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(canonicalRequest, canonicalRequest.GetType(), Canonical)));
}
