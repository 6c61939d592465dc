using System.Security.Cryptography;
using System.Text;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// Checks the key a request presents: a key that authenticated in the last <see cref="ApiKeyCache.Lifetime"/> is answered from
/// <see cref="ApiKeyCache"/>, any other is looked up by its prefix on a pooled read context. One for the process, so that a
/// request with a remembered key resolves nothing per scope and touches no database.
/// </summary>
public sealed class ApiKeyVerifier(ApiKeyCache cache, ReadContexts contexts)
{
    private sealed record StoredKey(Guid Id, string Name, string Prefix, byte[] Hash);

    private static readonly Func<BillingDbContext, string, Task<StoredKey?>> InForce = EF.CompileAsyncQuery(
        (BillingDbContext db, string prefix) => db.ApiKeys.Where(k => k.Prefix == prefix && k.RevokedAt == null)
            .Select(k => new StoredKey(k.Id, k.Name, k.Prefix, k.Hash)).SingleOrDefault());

    /// <summary>The key's identity, or null when it is malformed, unknown, revoked or wrong.</summary>
    public async Task<ApiKeyIdentity?> AuthenticateAsync(string presented, CancellationToken ct)
    {
        var parts = presented.Split('_');
        if (parts is not [ApiKeys.Marker, { Length: ApiKeys.PrefixBytes * 2 } prefix, { Length: ApiKeys.SecretBytes * 2 }]) return null;
        var hash = Hash(presented);
        var cacheKey = Convert.ToHexString(hash);
        if (cache.Find(cacheKey) is { } remembered) return remembered;
        ct.ThrowIfCancellationRequested();
        StoredKey? record;
        await using (var db = contexts.Rent()) record = await InForce(db, prefix);
        if (record is null || !CryptographicOperations.FixedTimeEquals(hash, record.Hash)) return null;
        var key = new ApiKeyIdentity(record.Id, record.Name, record.Prefix);
        cache.Keep(cacheKey, key);
        return key;
    }

    internal static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
