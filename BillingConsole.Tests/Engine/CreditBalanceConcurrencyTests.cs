using BillingConsole.Domain.Common;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Tests.Engine;

/// <summary>
/// The billing run and the engine's commands move one customer's credit at the same time, and the customer's
/// credit_balance still equals the ledger's customer-credit account afterwards: both take the same customer lock. Behind
/// the lock, a balance that moved since it was read is never overwritten, by the chunk's batched write or by EF.
/// </summary>
public sealed class CreditBalanceConcurrencyTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Agent = new("support@example.test", "support");
    private const int Customers = 12;

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("credit_locks");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Plan_changes_granting_credit_while_a_billing_chunk_uses_it_leave_every_credit_balance_equal_to_the_ledger()
    {
        var (_, monthly) = await _data.PlanAsync(20m);
        var (_, large) = await _data.PlanAsync(300m);
        var (_, medium) = await _data.PlanAsync(200m);
        var (_, small) = await _data.PlanAsync(10m);
        var changing = new List<Guid>();
        for (var i = 0; i < Customers; i++)
        {
            var customer = await _data.CustomerAsync();
            // Due now: the billing run renews it and pays it with the customer's credit.
            await _data.SubscriptionAsync(customer, monthly);
            // Mid-period: each downgrade grants proration credit at once.
            var other = await _data.SubscriptionAsync(customer, large, endedAgo: TimeSpan.FromDays(-20));
            await ChangePlanAsync(other.Id, medium.Id);
            changing.Add(other.Id);
        }

        var runId = await _engine.InScopeAsync<BillingRunService, Guid>(runs => runs.StartAsync(Actor.System, ct: Ct));
        // The chunk is held just before its commit, after it has read and written its customers' credit: the commands
        // below run while it holds them.
        await using var hold = new NpgsqlConnection(_database.ConnectionString);
        await hold.OpenAsync(Ct);
        await using var holding = await hold.BeginTransactionAsync(Ct);
        await hold.ExecuteAsync("select 1 from billing_run_chunks where run_id = @runId for update", new { runId }, holding);

        var chunk = Task.Run(_engine.RunEnqueuedChunksAsync, Ct);
        await WaitForLockWaitersAsync(1);
        var changes = changing.Select(id => Task.Run(() => ChangePlanAsync(id, small.Id), Ct)).ToList();
        await WaitForLockWaitersAsync(1 + Customers);
        await holding.CommitAsync(Ct);
        await chunk;
        await Task.WhenAll(changes);

        await using var db = new NpgsqlConnection(_database.ConnectionString);
        var balances = (await db.QueryAsync<(Guid Id, decimal Balance)>("select id, credit_balance from customers")).ToDictionary();
        var ledger = (await db.QueryAsync<(Guid CustomerId, decimal Balance)>(
            "select customer_id, sum(credit - debit) from ledger_entries where account = 'customer_credit' group by customer_id")).ToDictionary();
        Assert.Equal(Customers, balances.Count);
        // The run used credit that the commands' first changes granted: the two really moved the same balances.
        Assert.Equal(Customers, await db.ExecuteScalarAsync<int>(
            "select count(*) from invoices where billing_run_id = @runId and credit_applied > 0", new { runId }));
        Assert.All(balances, customer => Assert.Equal(ledger[customer.Key], customer.Value));
    }

    [Fact]
    public async Task A_chunk_writing_credit_over_a_balance_that_moved_since_it_read_it_is_refused_and_changes_nothing()
    {
        var customer = await _data.CustomerAsync();
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync(Ct);

        // The chunk read 5.00 under its lock; the row holds 0.00.
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => _engine.Get<BillingChunkWriter>().UpdateCreditBalancesAsync(connection,
            new Dictionary<Guid, (Money, Money)> { [customer.Id] = (new Money(5m, "USD"), new Money(2m, "USD")) }, Ct));

        Assert.Contains("rolled back", refused.Message);
        Assert.Equal(0m, await connection.ExecuteScalarAsync<decimal>("select credit_balance from customers where id = @Id", new { customer.Id }));
    }

    [Fact]
    public async Task A_customer_saved_over_a_change_made_since_it_was_read_is_refused()
    {
        var customer = await _data.CustomerAsync();
        await using var first = _database.NewContext();
        await using var second = _database.NewContext();
        var read = await first.Customers.SingleAsync(c => c.Id == customer.Id, Ct);
        var moved = await second.Customers.SingleAsync(c => c.Id == customer.Id, Ct);
        moved.AddCredit(new Money(10m, "USD"));
        await second.SaveChangesAsync(Ct);

        read.AddCredit(new Money(3m, "USD"));

        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => first.SaveChangesAsync(Ct));
        await using var check = _database.NewContext();
        Assert.Equal(10m, (await check.Customers.AsNoTracking().SingleAsync(c => c.Id == customer.Id, Ct)).CreditBalance.Amount);
    }

    private Task ChangePlanAsync(Guid subscriptionId, Guid priceId) =>
        _engine.InScopeAsync<SubscriptionCommands>(commands =>
            commands.ChangePlanAsync(subscriptionId, new ChangePlan(priceId, 1, "immediate", null), Agent, "Downgrade", Ct));

    /// <summary>Waits until this many of the database's sessions wait for a lock.</summary>
    private async Task WaitForLockWaitersAsync(int count)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync(Ct);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        while (await connection.ExecuteScalarAsync<int>(
                   "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'") < count)
            await Task.Delay(20, deadline.Token);
    }
}
