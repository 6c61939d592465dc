using Microsoft.EntityFrameworkCore;

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
        Span<byte> bytes = stackalloc byte[16];
        customerId.TryWriteBytes(bytes);
        var key = BitConverter.ToInt64(bytes[..8]) ^ BitConverter.ToInt64(bytes[8..]);
        await db.Database.ExecuteSqlAsync($"select pg_advisory_xact_lock({key})", ct);
    }
}
