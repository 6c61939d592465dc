namespace BillingConsole.Domain.Common;

/// <summary>
/// UUIDv7 ids that also keep their order within a millisecond (RFC 9562, method 3: a counter in the 12 bits after the
/// timestamp). <see cref="Guid.CreateVersion7()"/> fills those bits at random, so two lines of one invoice made in the same
/// millisecond sorted by id in either order, and an invoice read back listed them in a different order than it was issued.
/// </summary>
public static class TimeOrderedIds
{
    private const int CounterBits = 12;

    /// <summary>The last id's milliseconds and counter, as one number: every new id takes a larger one.</summary>
    private static long _last;

    public static Guid Next()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() << CounterBits;
        long last, next;
        do
        {
            last = Volatile.Read(ref _last);
            // A counter that runs over in one millisecond carries into the next: still larger, a millisecond early.
            next = Math.Max(now, last + 1);
        }
        while (Interlocked.CompareExchange(ref _last, next, last) != last);

        Span<byte> bytes = stackalloc byte[16];
        Guid.CreateVersion7(DateTimeOffset.FromUnixTimeMilliseconds(next >> CounterBits)).TryWriteBytes(bytes, bigEndian: true, out _);
        var counter = (int)(next & ((1 << CounterBits) - 1));
        bytes[6] = (byte)(0x70 | (counter >> 8));
        bytes[7] = (byte)counter;
        return new Guid(bytes, bigEndian: true);
    }
}
