using BillingConsole.Components.Shared;
using BillingConsole.Configuration;
using BillingConsole.Engine.Changes;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BillingConsole.Tests.Components;

/// <summary>The page side of live updates: which changes reload a page, how often, and until when.</summary>
public sealed class LiveUpdatesTests : IAsyncDisposable
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(100);
    private readonly BunitContext _context = new();
    // Nothing listens there: the feed delivers on this node only, which is all a page sees.
    private readonly IConnectionMultiplexer _noRedis = ConnectionMultiplexer.Connect("127.0.0.1:1,abortConnect=false,connectTimeout=100");
    private readonly ChangeFeed _feed;
    private int _reloads;

    public LiveUpdatesTests()
    {
        _feed = new ChangeFeed(_noRedis, Options.Create(new RedisOptions { Configuration = "127.0.0.1:1" }), NullLogger<ChangeFeed>.Instance);
        _context.Services.AddSingleton(_feed);
        _context.Services.AddLogging();
    }

    private int Reloads => Volatile.Read(ref _reloads);

    /// <summary>The reload runs on the component's dispatcher, which renders nothing here to wait on: the count is watched.</summary>
    private async Task<int> ReloadsOnceAtLeastAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (Reloads < count && DateTime.UtcNow < deadline) await Task.Delay(20, Xunit.TestContext.Current.CancellationToken);
        return Reloads;
    }

    [Fact]
    public async Task A_burst_of_changes_the_page_shows_reloads_it_once_and_other_changes_never()
    {
        var customerId = Guid.NewGuid();
        _context.Render<LiveUpdates>(p => p
            .Add(x => x.Shows, change => change.BelongsTo(customerId))
            .Add(x => x.Changed, () => { Interlocked.Increment(ref _reloads); })
            .Add(x => x.Delay, Delay));

        _feed.Publish([new EntityChange(ChangedEntity.Invoice, Guid.NewGuid(), Guid.NewGuid())]);
        for (var i = 0; i < 5; i++) _feed.Publish([new EntityChange(ChangedEntity.Invoice, Guid.NewGuid(), customerId)]);

        Assert.Equal(1, await ReloadsOnceAtLeastAsync(1));
        await Task.Delay(Delay * 3, Xunit.TestContext.Current.CancellationToken);
        Assert.Equal(1, Reloads);

        _feed.Publish([new EntityChange(ChangedEntity.Payment, Guid.NewGuid(), customerId)]);
        Assert.Equal(2, await ReloadsOnceAtLeastAsync(2));
    }

    [Fact]
    public async Task A_page_that_has_gone_reloads_nothing()
    {
        _context.Render<LiveUpdates>(p => p
            .Add(x => x.Shows, LiveUpdates.Of(ChangedEntity.Invoice))
            .Add(x => x.Changed, () => { Interlocked.Increment(ref _reloads); })
            .Add(x => x.Delay, Delay));
        _feed.Publish([new EntityChange(ChangedEntity.Invoice, Guid.NewGuid())]);

        // Gone before its delay is up, and before the next change.
        await _context.DisposeComponentsAsync();
        _feed.Publish([new EntityChange(ChangedEntity.Invoice, Guid.NewGuid())]);
        await Task.Delay(Delay * 3, Xunit.TestContext.Current.CancellationToken);

        Assert.Equal(0, Reloads);
    }

    public async ValueTask DisposeAsync()
    {
        await _context.DisposeAsync();
        await _noRedis.DisposeAsync();
    }
}
