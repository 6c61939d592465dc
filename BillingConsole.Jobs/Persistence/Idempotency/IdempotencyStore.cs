using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace BillingConsole.Persistence.Idempotency;

/// <summary>
/// Runs a request's action at most once per idempotency key and gives every retry the first answer.
/// </summary>
/// <remarks>
/// <para><b>The choice: claim, effect and answer commit in one PostgreSQL transaction.</b> The call opens a transaction on
/// the request's <see cref="BillingDbContext"/>, claims the key with <c>INSERT … ON CONFLICT (key) DO NOTHING</c>, runs the
/// action in that same transaction (the engine commands save into the caller's transaction), writes the response onto
/// the claimed row and commits. So a committed row always carries its response, and a crash or an exception anywhere
/// before the commit rolls back the claim together with the effect: the key is free again and no effect happened, so a
/// retry runs the action exactly once. There is no "stuck in progress" row to expire and no window in which an effect
/// exists without its record. A failed action (invalid input, missing resource, broken rule) therefore stores nothing;
/// a retry with the same key runs it again against the current state.</para>
/// <para><b>Concurrent calls with one key.</b> The primary key is the guarantee, but a second INSERT of an uncommitted key
/// blocks inside PostgreSQL until the first transaction ends, holding a pooled connection all that time; a hundred such
/// waiters would drain the pool the running action itself needs. So the claim is first guarded by a non-blocking
/// transaction-scoped advisory lock on the key: a call that does not get it holds nothing, polls Redis and the table with
/// a short back-off, and returns the stored response as soon as the winner commits (or claims the key itself if the
/// winner rolled back). After <see cref="WaitLimit"/> it gives up with <see cref="IdempotencyResult.StillInProgress"/>.</para>
/// <para><b>Not covered by the transaction:</b> effects outside PostgreSQL. Invoice numbers come from a sequence and a
/// rolled-back call leaves a gap (allowed). An action that someday calls a gateway must send it this key so that the
/// gateway deduplicates too.</para>
/// <para><b>Redis</b> holds completed responses under <c>idem:{key}</c> for 24 hours so that replays skip the database.
/// It is written only after the commit and never consulted for the claim, so losing it, or any Redis error or timeout,
/// only sends the lookup to PostgreSQL.</para>
/// </remarks>
public sealed class IdempotencyStore(BillingDbContext db, IConnectionMultiplexer redis, TimeProvider clock, ILogger<IdempotencyStore> logger)
{
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromHours(24);
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromMilliseconds(200);
    /// <summary>The first key of the two-key advisory lock form, reserved for idempotency keys ("ID").</summary>
    private const int AdvisoryLockClass = 0x4944;
    private const string Completed = "completed";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<IdempotencyOutcome> ExecuteAsync(Guid key, string operation, string requestFingerprint,
        Func<CancellationToken, Task<StoredResponse>> action, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is not null)
            throw new InvalidOperationException("An idempotent call opens its own transaction; none may be open on the context.");
        var deadline = clock.GetUtcNow() + WaitLimit;
        var pause = FirstPoll;
        while (true)
        {
            var known = await FromCacheAsync(key) ?? await FromDatabaseAsync(key, ct);
            if (known is not null) return Answer(known, operation, requestFingerprint);

            var outcome = await TryClaimAndRunAsync(key, operation, requestFingerprint, action, ct);
            if (outcome is not null) return outcome;

            if (clock.GetUtcNow() >= deadline) return IdempotencyOutcome.StillInProgress;
            await Task.Delay(pause, clock, ct);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPoll.Ticks));
        }
    }

    /// <summary>Null when another call holds the key right now.</summary>
    private async Task<IdempotencyOutcome?> TryClaimAndRunAsync(Guid key, string operation, string fingerprint,
        Func<CancellationToken, Task<StoredResponse>> action, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var locked = await db.Database
            .SqlQuery<bool>($"select pg_try_advisory_xact_lock({AdvisoryLockClass}, {LockId(key)}) as \"Value\"")
            .SingleAsync(ct);
        if (!locked) return null;

        var now = clock.GetUtcNow();
        var claimed = await db.Database.ExecuteSqlAsync(
            $"""
            insert into idempotency_keys (key, operation, request_hash, status, created_at)
            values ({key}, {operation}, {fingerprint}, 'in_progress', {now})
            on conflict (key) do nothing
            """, ct);
        if (claimed == 0)
        {
            // Committed between the lookup and the lock.
            var existing = await FromDatabaseAsync(key, ct);
            return existing is null ? null : Answer(existing, operation, fingerprint);
        }

        StoredResponse response;
        try
        {
            response = await action(ct);
        }
        catch
        {
            await transaction.RollbackAsync(CancellationToken.None);
            db.ChangeTracker.Clear();
            throw;
        }

        await db.Database.ExecuteSqlAsync(
            $"""
            update idempotency_keys
            set status = {Completed}, response_status = {response.StatusCode}, response_body = {response.Body}, completed_at = {clock.GetUtcNow()}
            where key = {key}
            """, ct);
        await transaction.CommitAsync(ct);
        await CacheAsync(key, new Record(operation, fingerprint, response.StatusCode, response.Body));
        return new IdempotencyOutcome(IdempotencyResult.Executed, response);
    }

    private static IdempotencyOutcome Answer(Record record, string operation, string fingerprint) =>
        record.Operation == operation && record.RequestHash == fingerprint
            ? new IdempotencyOutcome(IdempotencyResult.Replayed, new StoredResponse(record.StatusCode, record.Body))
            : IdempotencyOutcome.Conflict;

    private async Task<Record?> FromDatabaseAsync(Guid key, CancellationToken ct)
    {
        var row = await db.IdempotencyKeys.AsNoTracking()
            .Where(k => k.Key == key && k.Status == Completed)
            .Select(k => new { k.Operation, k.RequestHash, k.ResponseStatus, k.ResponseBody })
            .SingleOrDefaultAsync(ct);
        if (row is null) return null;
        var record = new Record(row.Operation, row.RequestHash, row.ResponseStatus ?? 200, row.ResponseBody ?? string.Empty);
        await CacheAsync(key, record);
        return record;
    }

    private async Task<Record?> FromCacheAsync(Guid key)
    {
        if (!redis.IsConnected) return null;
        try
        {
            var value = await redis.GetDatabase().StringGetAsync(CacheKey(key));
            return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize<Record>(value.ToString(), Json);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or JsonException)
        {
            logger.LogWarning(e, "Idempotency cache read failed; using PostgreSQL");
            return null;
        }
    }

    private async Task CacheAsync(Guid key, Record record)
    {
        if (!redis.IsConnected) return;
        try
        {
            await redis.GetDatabase().StringSetAsync(CacheKey(key), JsonSerializer.Serialize(record, Json), CacheLifetime);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning(e, "Idempotency cache write failed; PostgreSQL keeps the record");
        }
    }

    public static string CacheKey(Guid key) => $"idem:{key}";

    /// <summary>Folds the key's 128 bits into the lock's 32; a rare collision only makes two keys wait for each other.</summary>
    private static int LockId(Guid key)
    {
        Span<byte> bytes = stackalloc byte[16];
        key.TryWriteBytes(bytes);
        var ints = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(bytes);
        return ints[0] ^ ints[1] ^ ints[2] ^ ints[3];
    }

    private sealed record Record(string Operation, string RequestHash, int StatusCode, string Body);
}
