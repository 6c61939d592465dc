using BillingConsole.Engine.Changes;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.Tests.Api;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Engine;

/// <summary>
/// The live-update feed: what the engine commits reaches subscribers on its own node and, through Redis, on the others;
/// what it rolls back reaches no one.
/// </summary>
public sealed class ChangeFeedTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    internal static readonly Actor Support = new("Sam Support", "support");
    private static readonly TimeSpan AcrossNodes = TimeSpan.FromSeconds(10);

    private MigratedDatabase _database = null!;
    private EngineServices _nodeA = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("change_feed");
        _nodeA = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _nodeA.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _nodeA.DisposeAsync();
        await _database.DisposeAsync();
    }

    internal static Task RenameAsync(EngineServices node, Guid customerId, string name) =>
        node.InScopeAsync<CustomerCommands, CustomerView>(c => c.UpdateAsync(customerId, new UpdateCustomer(name, null, null, null, null), Support,
            "Customer asked for the new name", Ct));

    internal static EntityChange CustomerChanged(Guid customerId) => new(ChangedEntity.Customer, customerId, customerId);

    [Fact]
    public async Task A_committed_change_reaches_a_subscriber_at_once_and_work_that_never_commits_reaches_no_one()
    {
        var rolledBack = await _data.CustomerAsync();
        var abandoned = await _data.CustomerAsync();
        var committed = await _data.CustomerAsync();
        using var received = new ChangeRecorder(_nodeA.Get<ChangeFeed>());

        await using (var scope = _nodeA.Services.CreateAsyncScope())
        {
            // The caller owns the transaction, as the idempotency store does: the command's save waits for its commit.
            var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
            var commands = scope.ServiceProvider.GetRequiredService<CustomerCommands>();
            await using (var transaction = await db.Database.BeginTransactionAsync(Ct))
            {
                await commands.UpdateAsync(rolledBack.Id, new UpdateCustomer("Rolled Back Ltd", null, null, null, null), Support, "Trying", Ct);
                await transaction.RollbackAsync(Ct);
            }
            db.ChangeTracker.Clear();
            // A transaction that ends by being disposed, as on an exception, commits nothing either.
            await using (await db.Database.BeginTransactionAsync(Ct))
                await commands.UpdateAsync(abandoned.Id, new UpdateCustomer("Abandoned Ltd", null, null, null, null), Support, "Trying", Ct);
            db.ChangeTracker.Clear();
            Assert.Empty(received.Changes);

            // The next commit in the same scope announces its own change only.
            await commands.UpdateAsync(committed.Id, new UpdateCustomer("Committed Ltd", null, null, null, null), Support, "Renamed", Ct);
        }

        Assert.Equal([CustomerChanged(committed.Id)], received.Changes);
    }

    [Fact]
    public async Task A_save_outside_any_transaction_is_announced_once_it_is_saved()
    {
        var customer = await _data.CustomerAsync();
        using var received = new ChangeRecorder(_nodeA.Get<ChangeFeed>());

        await _nodeA.InScopeAsync<CustomerCommands>(c => c.AddNoteAsync(customer.Id, Support, "Called about the invoice", Ct));

        Assert.Equal([CustomerChanged(customer.Id)], received.Changes);
    }

    [Fact]
    public async Task A_billing_run_announces_its_chunks_not_its_invoices()
    {
        var (_, price) = await _data.PlanAsync(15m);
        await _data.DueSubscriptionsAsync(price, 250, "pm_ok_", "pm_insufficient_funds_");
        using var received = new ChangeRecorder(_nodeA.Get<ChangeFeed>());

        var runId = await _nodeA.RunBillingAsync();

        // Chunks of 100: the run's start, then each of the 3 chunks after invoicing and after charging.
        Assert.All(received.Changes, change => Assert.Equal(new EntityChange(ChangedEntity.BillingRun, runId), change));
        Assert.Equal(1 + 3 * 2, received.Batches.Count);
    }

    [Fact]
    public async Task A_change_on_one_node_reaches_the_other_node_once_and_does_not_echo_back()
    {
        var customer = await _data.CustomerAsync();
        await using var nodeB = EngineServices.Create(_database);
        await _nodeA.StartAsync();
        await nodeB.StartAsync();
        using var onA = new ChangeRecorder(_nodeA.Get<ChangeFeed>());
        using var onB = new ChangeRecorder(nodeB.Get<ChangeFeed>());

        await RenameAsync(_nodeA, customer.Id, "Renamed On A Ltd");

        Assert.Equal([CustomerChanged(customer.Id)], await onB.WaitForAsync(customer.Id, AcrossNodes));
        // Time for a duplicate on B, or an echo on A, to arrive if there were one.
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        Assert.Equal([CustomerChanged(customer.Id)], onB.Of(customer.Id));
        Assert.Equal([CustomerChanged(customer.Id)], onA.Of(customer.Id));
    }
}

/// <summary>Stops the run's Redis, so it runs alone.</summary>
[Collection(typeof(RedisOutage))]
public sealed class ChangeFeedWithoutRedisTests
{
    private static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task With_Redis_stopped_changes_still_reach_this_node_and_other_nodes_hear_again_once_it_is_back()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("change_feed_no_redis");
        await using var nodeA = EngineServices.Create(database);
        await using var nodeB = EngineServices.Create(database);
        var data = new BillingTestData(database, nodeA.Clock.GetUtcNow());
        var whileDown = await data.CustomerAsync();
        var afterwards = await data.CustomerAsync();
        await nodeA.StartAsync();
        await nodeB.StartAsync();
        using var onA = new ChangeRecorder(nodeA.Get<ChangeFeed>());
        using var onB = new ChangeRecorder(nodeB.Get<ChangeFeed>());

        try
        {
            await TestServers.StopRedisAsync();
            await ChangeFeedTests.RenameAsync(nodeA, whileDown.Id, "Renamed Without Redis Ltd");
            Assert.Equal([ChangeFeedTests.CustomerChanged(whileDown.Id)], onA.Of(whileDown.Id));
        }
        finally
        {
            await TestServers.StartRedisAsync();
        }

        // Both multiplexers reconnect, and B's subscription is restored, by themselves.
        var redisA = nodeA.Get<StackExchange.Redis.IConnectionMultiplexer>();
        var redisB = nodeB.Get<StackExchange.Redis.IConnectionMultiplexer>();
        var deadline = DateTime.UtcNow + Reconnect;
        while (!(redisA.IsConnected && redisB.IsConnected) && DateTime.UtcNow < deadline) await Task.Delay(100, TestContext.Current.CancellationToken);
        await ChangeFeedTests.RenameAsync(nodeA, afterwards.Id, "Renamed After Redis Ltd");
        Assert.Equal([ChangeFeedTests.CustomerChanged(afterwards.Id)], await onB.WaitForAsync(afterwards.Id, TimeSpan.FromSeconds(10)));
        Assert.Empty(onB.Of(whileDown.Id));
    }
}
