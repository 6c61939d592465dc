using BillingConsole.Domain.Customers;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.Persistence.Availability;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Persistence;

/// <summary>While read-only every engine command is refused with the read-only sentence before anything is written.</summary>
public sealed class ReadOnlyWriteGuardTests
{
    [Fact]
    public async Task Commands_are_refused_while_read_only_and_accepted_again_after()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("read_only_guard");
        await using var engine = EngineServices.Create(database);
        var state = engine.Get<ReadOnlyState>();
        var command = new CreateCustomer("Grace Hopper", "grace@example.com", "USD", null, null);
        state.Enter("the database cannot be reached", new DateTimeOffset(2027, 3, 15, 9, 30, 5, TimeSpan.Zero));

        var refusal = await Assert.ThrowsAsync<ReadOnlyException>(() =>
            engine.InScopeAsync<CustomerCommands, CustomerView>(c => c.CreateAsync(command, Actor.System, "test", TestContext.Current.CancellationToken)));

        Assert.Equal("BillingConsole is read-only since 09:30:05 UTC because the database cannot be reached: nothing was changed, "
                     + "and changes are possible again as soon as it is back.", refusal.Message);
        await using (var db = database.NewContext())
            Assert.Equal((0, 0), (await db.Customers.CountAsync(TestContext.Current.CancellationToken), await db.AuditLog.CountAsync(TestContext.Current.CancellationToken)));

        state.Leave();
        await engine.InScopeAsync<CustomerCommands, CustomerView>(c => c.CreateAsync(command, Actor.System, "test", TestContext.Current.CancellationToken));
        await using (var db = database.NewContext())
            Assert.Equal(1, await db.Customers.CountAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_pooled_read_context_is_refused_while_read_only_and_never_saves()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("read_contexts");
        await using var engine = EngineServices.Create(database);
        var contexts = engine.Get<ReadContexts>();
        var state = engine.Get<ReadOnlyState>();
        state.Enter("the database cannot be reached", EngineServices.DefaultNow);

        await using (var read = contexts.Rent())
            await Assert.ThrowsAsync<ReadOnlyException>(() => read.Customers.CountAsync(TestContext.Current.CancellationToken));

        state.Leave();
        await using (var read = contexts.Rent())
        {
            read.Customers.Add(new Customer("Ada Lovelace", "ada@example.com", "USD", CustomerAddress.Empty, EngineServices.DefaultNow));
            await Assert.ThrowsAsync<InvalidOperationException>(() => read.SaveChangesAsync(TestContext.Current.CancellationToken));
        }
        await using (var read = contexts.Rent())
            Assert.Equal(0, await read.Customers.CountAsync(TestContext.Current.CancellationToken));
    }
}
