using System.Collections.Concurrent;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// Keys that authenticated recently, by the SHA-256 of the presented key, so that a busy caller is not looked up in the
/// database on every request. An entry lives <see cref="Lifetime"/>: a key revoked on another node (or by the
/// revoke-api-key command) stops working here within that time; one revoked through <see cref="ApiKeys"/> on this node at once.
/// Only keys that were valid are kept, so guessed keys cannot fill it.
/// </summary>
public sealed class ApiKeyCache(TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (ApiKeyIdentity Key, DateTimeOffset Until)> _entries = new();

    public ApiKeyIdentity? Find(string keyHash)
    {
        if (!_entries.TryGetValue(keyHash, out var entry)) return null;
        if (clock.GetUtcNow() < entry.Until) return entry.Key;
        _entries.TryRemove(new KeyValuePair<string, (ApiKeyIdentity, DateTimeOffset)>(keyHash, entry));
        return null;
    }

    public void Keep(string keyHash, ApiKeyIdentity key) => _entries[keyHash] = (key, clock.GetUtcNow() + Lifetime);

    public void Forget(string prefix)
    {
        foreach (var entry in _entries.Where(e => e.Value.Key.Prefix == prefix)) _entries.TryRemove(entry);
    }
}
