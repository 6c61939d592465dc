using System.Security.Cryptography;
using System.Text;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Commands;

/// <summary>The plain key, shown once at creation and never again: only its SHA-256 hash is kept.</summary>
public sealed record CreatedApiKey(Guid Id, string Name, string Prefix, string Key);

public sealed record ApiKeyIdentity(Guid Id, string Name, string Prefix);

/// <summary>
/// Upstream systems' API keys, written <c>bk_&lt;prefix&gt;_&lt;secret&gt;</c>. The prefix finds the row (and names the key in
/// logs); the SHA-256 of the whole key is compared in constant time. A fast hash is enough: the secret is 256 random bits,
/// not a password. Valid keys are remembered for a few seconds (<see cref="ApiKeyCache"/>).
/// </summary>
public sealed class ApiKeys(BillingDbContext db, AuditTrail audit, TimeProvider clock, ApiKeyCache cache)
{
    public const string Marker = "bk";
    private const int PrefixBytes = 6;
    private const int SecretBytes = 32;

    public async Task<CreatedApiKey> CreateAsync(string name, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > 120) throw new ArgumentException("An API key needs a name of 1 to 120 characters.", nameof(name));
        var prefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(PrefixBytes));
        var key = $"{Marker}_{prefix}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(SecretBytes))}";
        var record = new ApiKeyRecord
        {
            Id = Guid.CreateVersion7(),
            Name = name.Trim(),
            Prefix = prefix,
            Hash = Hash(key),
            CreatedAt = clock.GetStoredNow(),
        };
        db.ApiKeys.Add(record);
        audit.Record(Actor.System, "api_key.created", "api_key", record.Id, $"API key '{record.Name}' created",
            after: new { record.Name, record.Prefix });
        await db.SaveChangesAsync(ct);
        return new CreatedApiKey(record.Id, record.Name, prefix, key);
    }

    /// <summary>The key's identity, or null when it is malformed, unknown, revoked or wrong.</summary>
    public async Task<ApiKeyIdentity?> AuthenticateAsync(string presented, CancellationToken ct)
    {
        var parts = presented.Split('_');
        if (parts is not [Marker, { Length: PrefixBytes * 2 } prefix, { Length: SecretBytes * 2 }]) return null;
        var hash = Hash(presented);
        var cacheKey = Convert.ToHexString(hash);
        if (cache.Find(cacheKey) is { } remembered) return remembered;
        var record = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Prefix == prefix && k.RevokedAt == null)
            .Select(k => new { k.Id, k.Name, k.Prefix, k.Hash })
            .SingleOrDefaultAsync(ct);
        if (record is null || !CryptographicOperations.FixedTimeEquals(hash, record.Hash)) return null;
        var key = new ApiKeyIdentity(record.Id, record.Name, record.Prefix);
        cache.Keep(cacheKey, key);
        return key;
    }

    /// <summary>
    /// Stops the key with this prefix from working: at once on this node, within <see cref="ApiKeyCache.Lifetime"/> on the
    /// others. False when no key that is still in force has this prefix.
    /// </summary>
    public async Task<bool> RevokeAsync(string prefix, Actor actor, string reason, CancellationToken ct = default)
    {
        var record = await db.ApiKeys.SingleOrDefaultAsync(k => k.Prefix == prefix && k.RevokedAt == null, ct);
        if (record is null) return false;
        record.RevokedAt = clock.GetStoredNow();
        audit.Record(actor, "api_key.revoked", "api_key", record.Id, reason, after: new { record.Name, record.Prefix });
        await db.SaveChangesAsync(ct);
        cache.Forget(prefix);
        return true;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
