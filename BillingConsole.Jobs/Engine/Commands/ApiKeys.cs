using System.Security.Cryptography;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Commands;

/// <summary>The plain key, shown once at creation and never again: only its SHA-256 hash is kept.</summary>
public sealed record CreatedApiKey(Guid Id, string Name, string Prefix, string Key);

public sealed record ApiKeyIdentity(Guid Id, string Name, string Prefix);

/// <summary>
/// Upstream systems' API keys, written <c>bk_&lt;prefix&gt;_&lt;secret&gt;</c>. The prefix finds the row (and names the key in
/// logs); the SHA-256 of the whole key is compared in constant time. A fast hash is enough: the secret is 256 random bits,
/// not a password. Requests are authenticated by <see cref="ApiKeyVerifier"/>.
/// </summary>
public sealed class ApiKeys(BillingDbContext db, AuditTrail audit, TimeProvider clock, ApiKeyCache cache)
{
    public const string Marker = "bk";
    internal const int PrefixBytes = 6;
    internal const int SecretBytes = 32;

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
            Hash = ApiKeyVerifier.Hash(key),
            CreatedAt = clock.GetStoredNow(),
        };
        db.ApiKeys.Add(record);
        audit.Record(Actor.System, "api_key.created", "api_key", record.Id, $"API key '{record.Name}' created",
            after: new { record.Name, record.Prefix });
        await db.SaveChangesAsync(ct);
        return new CreatedApiKey(record.Id, record.Name, prefix, key);
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
}
