using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using BillingConsole.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BillingConsole.Engine.Changes;

/// <summary>
/// Tells open pages what was committed, on this node at once and on the other nodes through Redis pub/sub. Each message
/// carries this node's id so that a node ignores its own echo. Redis is optional here as everywhere: while it is away,
/// publishing still reaches this node's subscribers, and the multiplexer reconnects and restores the subscription by itself.
/// </summary>
public sealed class ChangeFeed(IConnectionMultiplexer redis, IOptions<RedisOptions> options, ILogger<ChangeFeed> logger) : IHostedService
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private static readonly TimeSpan SubscribeRetryInterval = TimeSpan.FromSeconds(2);

    private readonly RedisChannel _channel = RedisChannel.Literal($"{options.Value.ChannelPrefix}:changes");
    private readonly CancellationTokenSource _stopping = new();
    private ImmutableList<Action<IReadOnlyList<EntityChange>>> _subscribers = [];

    /// <summary>This process among the nodes.</summary>
    public Guid NodeId { get; } = Guid.NewGuid();

    /// <summary>
    /// Calls <paramref name="onChanges"/> with each committed batch of changes, from whichever thread committed or received
    /// them: it should only note what happened and return. Dispose the result to stop.
    /// </summary>
    public IDisposable Subscribe(Action<IReadOnlyList<EntityChange>> onChanges)
    {
        ImmutableInterlocked.Update(ref _subscribers, list => list.Add(onChanges));
        return new Subscription(() => ImmutableInterlocked.Update(ref _subscribers, list => list.Remove(onChanges)));
    }

    /// <summary>Announces changes that are committed. Never throws: a page missing one refresh is no reason to fail the work.</summary>
    public void Publish(IReadOnlyList<EntityChange> changes)
    {
        if (changes.Count == 0) return;
        Deliver(changes);
        if (!redis.IsConnected) return;
        try
        {
            var message = JsonSerializer.Serialize(new ChangeMessage(NodeId, changes), Json);
            redis.GetSubscriber().Publish(_channel, message, CommandFlags.FireAndForget);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            logger.LogDebug(e, "Changes not sent to the other nodes: Redis is unavailable");
        }
    }

    /// <summary>Listens from the start when Redis is there; otherwise from when it comes, without holding up the start.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (redis.IsConnected && await TrySubscribeAsync()) return;
        _ = SubscribeWhenRedisAnswersAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            if (redis.IsConnected) await redis.GetSubscriber().UnsubscribeAsync(_channel);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            // Going away anyway: a multiplexer the host has already disposed takes the subscription with it.
        }
    }

    /// <summary>From the first success on, the multiplexer restores the subscription after each reconnect.</summary>
    private async Task SubscribeWhenRedisAnswersAsync(CancellationToken ct)
    {
        try
        {
            do await Task.Delay(SubscribeRetryInterval, ct);
            while (!await TrySubscribeAsync());
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task<bool> TrySubscribeAsync()
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(_channel, (_, message) => Receive(message));
            return true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Live updates from other nodes wait for Redis ({Message}); trying again in {Seconds} s", e.Message,
                SubscribeRetryInterval.TotalSeconds);
            return false;
        }
    }

    private void Receive(RedisValue payload)
    {
        ChangeMessage? message;
        try
        {
            message = JsonSerializer.Deserialize<ChangeMessage>(payload.ToString(), Json);
        }
        catch (JsonException e)
        {
            logger.LogWarning(e, "Ignored a live-update message that is not a list of changes");
            return;
        }
        if (message is null || message.Node == NodeId || message.Changes is not { Count: > 0 } changes) return;
        Deliver(changes);
    }

    private void Deliver(IReadOnlyList<EntityChange> changes)
    {
        foreach (var subscriber in _subscribers)
        {
            try
            {
                subscriber(changes);
            }
            catch (Exception e)
            {
                logger.LogError(e, "A live-update subscriber failed");
            }
        }
    }

    private sealed record ChangeMessage(Guid Node, IReadOnlyList<EntityChange>? Changes);

    private sealed class Subscription(Action unsubscribe) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) unsubscribe();
        }
    }
}
