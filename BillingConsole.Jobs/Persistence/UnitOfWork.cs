using BillingConsole.Domain.Common;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Persistence;

public static class UnitOfWork
{
    /// <summary>
    /// Runs <paramref name="work"/> in the context's open transaction, or in a new one committed when it returns.
    /// A caller that owns the transaction (the idempotency store) thereby commits the command with its own rows.
    /// </summary>
    public static async Task<T> InTransactionAsync<T>(this BillingDbContext db, Func<Task<T>> work, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is not null) return await work();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var result = await work();
        await transaction.CommitAsync(ct);
        return result;
    }

    /// <summary>
    /// Serialises everything that moves one customer's money (credit balance, invoices) across requests and nodes, until
    /// the transaction ends. Call inside a transaction, before reading the customer.
    /// </summary>
    public static async Task LockCustomerAsync(this BillingDbContext db, Guid customerId, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null) throw new InvalidOperationException("A customer lock lasts for a transaction; open one first.");
        await LockCustomersAsync((NpgsqlConnection)db.Database.GetDbConnection(), [customerId], ct);
    }

    /// <summary>
    /// The one customer lock, taken by the engine's commands (<see cref="LockCustomerAsync"/>) and by a billing chunk for all
    /// its customers at once: row locks on the customers, in id order, until the transaction ends, so that each waits for the
    /// other and reads the balance the other wrote. (No key update: rows that refer to a customer can still be inserted
    /// meanwhile.) Returns the locked customers' credit balances.
    /// </summary>
    public static async Task<Dictionary<Guid, Money>> LockCustomersAsync(NpgsqlConnection connection, Guid[] customerIds, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "select id, credit_balance, currency from customers where id = any($1) order by id for no key update", connection)
        {
            Parameters = { new() { Value = customerIds } },
        };
        var balances = new Dictionary<Guid, Money>(customerIds.Length);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) balances[reader.GetGuid(0)] = new Money(reader.GetDecimal(1), reader.GetString(2));
        return balances;
    }
}
