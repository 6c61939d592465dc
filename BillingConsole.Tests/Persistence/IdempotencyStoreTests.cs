using BillingConsole.Domain.Customers;
using BillingConsole.Persistence;
using BillingConsole.Persistence.Idempotency;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Persistence;

/// <summary>The store on its own, against the run's PostgreSQL and Redis, with actions that write real rows.</summary>
public sealed class IdempotencyStoreTests(ConsoleAppHost host)
{
    private readonly string _marker = $"store-{Guid.NewGuid():N}";

    [Fact]
    public async Task An_action_that_fails_after_writing_leaves_neither_its_rows_nor_the_key()
    {
        var key = Guid.NewGuid();

        await Assert.ThrowsAsync<InvalidOperationException>(() => ExecuteAsync(key, "test.op", "hash", async (db, ct) =>
        {
            db.Customers.Add(NewCustomer());
            await db.SaveChangesAsync(ct);
            throw new InvalidOperationException("crash after the effect");
        }));
        var retried = await ExecuteAsync(key, "test.op", "hash", AddCustomer);

        Assert.Equal(IdempotencyResult.Executed, retried.Result);
        Assert.Equal(1, await CustomersAsync());
    }

    [Fact]
    public async Task Concurrent_calls_with_one_key_run_the_action_once_and_all_get_its_answer()
    {
        var key = Guid.NewGuid();
        var runs = 0;

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 25).Select(_ => ExecuteAsync(key, "test.op", "hash", async (db, ct) =>
        {
            Interlocked.Increment(ref runs);
            await Task.Delay(200, ct);
            return await AddCustomer(db, ct);
        })));

        Assert.Equal(1, runs);
        Assert.Equal(1, await CustomersAsync());
        Assert.Single(outcomes, o => o.Result == IdempotencyResult.Executed);
        Assert.All(outcomes, o => Assert.Equal(outcomes[0].Response, o.Response));
    }

    [Fact]
    public async Task Another_operation_or_fingerprint_with_the_same_key_is_a_conflict_and_does_not_run()
    {
        var key = Guid.NewGuid();
        await ExecuteAsync(key, "test.op", "hash", AddCustomer);

        var otherOperation = await ExecuteAsync(key, "test.other", "hash", AddCustomer);
        var otherRequest = await ExecuteAsync(key, "test.op", "other-hash", AddCustomer);
        var same = await ExecuteAsync(key, "test.op", "hash", AddCustomer);

        Assert.Equal((IdempotencyResult.Conflict, IdempotencyResult.Conflict, IdempotencyResult.Replayed),
            (otherOperation.Result, otherRequest.Result, same.Result));
        Assert.Equal(1, await CustomersAsync());
    }

    [Fact]
    public void Fingerprints_ignore_formatting_but_not_values()
    {
        Assert.Equal(RequestFingerprint.Of(new { a = 1, b = "x" }), RequestFingerprint.Of(new { a = 1, b = "x" }));
        Assert.NotEqual(RequestFingerprint.Of(new { a = 1, b = "x" }), RequestFingerprint.Of(new { a = 2, b = "x" }));
        Assert.Matches("^[0-9a-f]{64}$", RequestFingerprint.Of(new { a = 1 }));
    }

    private async Task<IdempotencyOutcome> ExecuteAsync(Guid key, string operation, string fingerprint,
        Func<BillingDbContext, CancellationToken, Task<StoredResponse>> action)
    {
        using var scope = host.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
        return await scope.ServiceProvider.GetRequiredService<IdempotencyStore>()
            .ExecuteAsync(key, operation, fingerprint, ct => action(db, ct), CancellationToken.None);
    }

    private async Task<StoredResponse> AddCustomer(BillingDbContext db, CancellationToken ct)
    {
        var customer = NewCustomer();
        db.Customers.Add(customer);
        await db.SaveChangesAsync(ct);
        return new StoredResponse(201, $$"""{"id":"{{customer.Id}}"}""");
    }

    private Customer NewCustomer() => new(_marker, "store@example.com", "USD", CustomerAddress.Empty, DateTimeOffset.UtcNow);

    private async Task<int> CustomersAsync()
    {
        using var scope = host.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<BillingDbContext>().Customers.CountAsync(c => c.Name == _marker);
    }
}
