using BillingConsole.Domain.Common;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Domain;

[PureTests]
public sealed class TimeOrderedIdsTests
{
    [Fact]
    public async Task Ids_made_one_after_another_sort_in_that_order_as_PostgreSQL_compares_them_even_within_a_millisecond()
    {
        // Several threads at once, as the engine's workers make entities; each thread's ids must still ascend.
        var perThread = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            Enumerable.Range(0, 20_000).Select(_ => TimeOrderedIds.Next()).ToList())));

        foreach (var ids in perThread)
        {
            // PostgreSQL orders uuids by their bytes in network order.
            var bytes = ids.Select(id => id.ToByteArray(bigEndian: true)).ToList();
            for (var i = 1; i < bytes.Count; i++)
                Assert.True(bytes[i - 1].AsSpan().SequenceCompareTo(bytes[i]) < 0, $"Id {i} sorts after id {i - 1}.");
            Assert.All(ids, id => Assert.Equal(7, id.Version));
            Assert.All(ids, id => Assert.Equal(0b10, id.Variant >> 2));
        }
        var all = perThread.SelectMany(ids => ids).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        // 80,000 ids take a few milliseconds, so many share one: the counter, not the clock, kept them apart.
        Assert.True(all.Select(id => id.ToByteArray(bigEndian: true)[..6].Aggregate(0L, (ms, b) => ms << 8 | b)).Distinct().Count() < all.Count / 10);
    }

    [Fact]
    public void An_id_carries_the_time_it_was_made()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var id = TimeOrderedIds.Next();
        var milliseconds = id.ToByteArray(bigEndian: true)[..6].Aggregate(0L, (ms, b) => ms << 8 | b);
        // No earlier than the clock; at most a few milliseconds ahead when earlier ids ran a counter over.
        Assert.InRange(milliseconds, before, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1_000);
    }
}
