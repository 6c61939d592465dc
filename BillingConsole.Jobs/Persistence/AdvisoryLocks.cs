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

    public static async Task<bool> TryLockAsync(NpgsqlConnection connection, long key, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("select pg_try_advisory_lock($1)", connection) { Parameters = { new() { Value = key } } };
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    public static async Task UnlockAsync(NpgsqlConnection connection, long key)
    {
        await using var command = new NpgsqlCommand("select pg_advisory_unlock($1)", connection) { Parameters = { new() { Value = key } } };
        await command.ExecuteScalarAsync(CancellationToken.None);
    }

    private static long KeyFor(string name)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        return BinaryPrimitives.ReadInt64LittleEndian(hash);
    }
}
