using System.Collections.Concurrent;
using BillingConsole.Engine.Changes;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>Keeps every batch of changes one node's feed delivers, for tests to look at or wait for.</summary>
public sealed class ChangeRecorder : IDisposable
{
    private readonly ConcurrentQueue<IReadOnlyList<EntityChange>> _batches = new();
    private readonly IDisposable _subscription;

    public ChangeRecorder(ChangeFeed feed) => _subscription = feed.Subscribe(_batches.Enqueue);

    public IReadOnlyList<IReadOnlyList<EntityChange>> Batches => [.. _batches];

    public IReadOnlyList<EntityChange> Changes => [.. _batches.SelectMany(batch => batch)];

    /// <summary>The changes of one entity, as many times as they were delivered.</summary>
    public IReadOnlyList<EntityChange> Of(Guid id) => [.. Changes.Where(c => c.Id == id)];

    /// <summary>Waits until a change of <paramref name="id"/> has been delivered (or the time is up) and returns those delivered.</summary>
    public async Task<IReadOnlyList<EntityChange>> WaitForAsync(Guid id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Of(id).Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        return Of(id);
    }

    public void Dispose() => _subscription.Dispose();
}
