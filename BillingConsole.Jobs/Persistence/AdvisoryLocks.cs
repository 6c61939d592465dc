using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace BillingConsole.Persistence;

/// <summary>
/// Keys of PostgreSQL advisory locks, by what they protect. Only the transaction-scoped kind is taken
/// (pg_advisory_xact_lock): it ends with its transaction, so it stays correct behind PgBouncer in transaction mode, which
/// would hand a session lock to another client.
/// </summary>
public static class AdvisoryLocks
{
    /// <summary>The key that lets one recording of MRR run at a time, on any node.</summary>
    public static long MrrRecording => KeyFor("mrr-recording");

    /// <summary>The key that lets one fold of revenue recognition write its quarter hours at a time, on any node.</summary>
    public static long RevenueRecognition => KeyFor("revenue-recognition");

    /// <summary>
    /// The key that lets one fold of dunning case facts run at a time, on any node: two folds of the same case from
    /// snapshots of different ages could otherwise commit the older facts last.
    /// </summary>
    public static long DunningCaseFacts => KeyFor("dunning-case-facts");

    /// <summary>One of the slots that bound the deliveries in flight to an outgoing-events endpoint (held for a transaction).</summary>
    public static long EventEndpointSlot(Guid endpointId, int slot) => KeyFor($"event-endpoint:{endpointId:N}:{slot}");

    private static long KeyFor(string name)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        return BinaryPrimitives.ReadInt64LittleEndian(hash);
    }
}
