using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace BillingConsole.Persistence;

/// <summary>
/// PostgreSQL session advisory locks, keyed by what they protect. They are held by a connection, so they work across
/// nodes, and PostgreSQL drops them if the holder's connection dies.
/// </summary>
public static class AdvisoryLocks
{
    /// <summary>The key that serialises charges of one invoice. Hashed with a purpose prefix so other lock kinds never collide with it.</summary>
    public static long InvoiceCharge(Guid invoiceId) => KeyFor($"invoice-charge:{invoiceId:N}");

    /// <summary>Like <see cref="TryLockManyAsync"/> for one key, but released by the current transaction's end instead of an explicit unlock.</summary>
    public static async Task<bool> TryLockForTransactionAsync(NpgsqlConnection connection, long key, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("select pg_try_advisory_xact_lock($1)", connection) { Parameters = { new() { Value = key } } };
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Takes what it can of <paramref name="keys"/> in one round trip; returns the keys now held.</summary>
    public static async Task<long[]> TryLockManyAsync(NpgsqlConnection connection, long[] keys, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("select k from unnest($1::bigint[]) k where pg_try_advisory_lock(k)", connection)
        {
            Parameters = { new() { Value = keys } },
        };
        var held = new List<long>(keys.Length);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) held.Add(reader.GetInt64(0));
        return [.. held];
    }

    public static async Task UnlockManyAsync(NpgsqlConnection connection, long[] keys)
    {
        if (keys.Length == 0) return;
        await using var command = new NpgsqlCommand("select count(*) from unnest($1::bigint[]) k where pg_advisory_unlock(k)", connection)
        {
            Parameters = { new() { Value = keys } },
        };
        await command.ExecuteScalarAsync(CancellationToken.None);
    }

    private static long KeyFor(string name)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        return BinaryPrimitives.ReadInt64LittleEndian(hash);
    }
}
