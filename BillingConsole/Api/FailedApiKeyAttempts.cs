using System.Threading.RateLimiting;
using BillingConsole.Extensions;
using Microsoft.Extensions.Options;

namespace BillingConsole.Api;

/// <summary>
/// Counts API keys that failed to authenticate, per client address, so that guessing keys is limited even though the
/// per-key limit only knows callers whose key is valid: past <see cref="RateLimitOptions.FailedApiKeysPerAddress"/>
/// failures within the window, every key from that address is refused with 429 before it is looked up.
/// </summary>
/// <remarks>
/// Kept per node, in memory: the check costs no round trip and works without Redis. A guesser spread over N nodes gets N
/// times the allowance, still hopelessly few guesses against a random key.
/// </remarks>
public sealed class FailedApiKeyAttempts(IOptions<RateLimitOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _failures = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.FailedApiKeysPerAddress,
            Window = TimeSpan.FromSeconds(options.Value.WindowSeconds),
            QueueLimit = 0,
        }));

    /// <summary>Null while the address may present keys; otherwise how long until it may again.</summary>
    public TimeSpan? BlockedFor(string address)
    {
        // Zero permits asks whether any are left without taking one.
        using var lease = _failures.AttemptAcquire(address, 0);
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(options.Value.WindowSeconds);
    }

    public void RecordFailure(string address) => _failures.AttemptAcquire(address).Dispose();

    public void Dispose() => _failures.Dispose();
}
