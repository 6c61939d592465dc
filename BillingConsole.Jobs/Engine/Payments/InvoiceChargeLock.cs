using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// The per-invoice charge lock: a session advisory lock on the context's own connection, so that two nodes or agents never
/// charge one invoice at the same time. Taken without waiting: an invoice whose lock is held elsewhere is left out, and the
/// caller answers <see cref="ChargeStatus.Busy"/>. (A webhook's reported outcome takes the same key for its transaction.)
/// </summary>
public sealed class InvoiceChargeLock(BillingDbContext db, ILogger<InvoiceChargeLock> logger)
{
    public static ChargeResult Busy(Guid invoiceId) => new(invoiceId, ChargeStatus.Busy, Message: "Another charge of this invoice is in progress.");

    /// <summary>
    /// Takes the lock for the current transaction, released when it ends: for a change that must not interleave with a charge
    /// of the invoice (a reported outcome, a void). False when a charge holds it now.
    /// </summary>
    public Task<bool> TryLockForTransactionAsync(Guid invoiceId, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null) throw new InvalidOperationException("The invoice charge lock for a transaction is taken inside one.");
        return AdvisoryLocks.TryLockForTransactionAsync((NpgsqlConnection)db.Database.GetDbConnection(), AdvisoryLocks.InvoiceCharge(invoiceId), ct);
    }

    /// <summary>Runs <paramref name="work"/> holding the lock of one invoice, or answers busy without running it.</summary>
    public Task<TResult> RunAsync<TResult>(Guid invoiceId, Func<Task<TResult>> work, Func<TResult> busy, CancellationToken ct) =>
        RunAsync([invoiceId], async (_, locked) => locked.Count == 0 ? busy() : await work(), ct);

    /// <inheritdoc cref="RunAsync{TResult}(IReadOnlyCollection{Guid}, Func{NpgsqlConnection, IReadOnlyList{Guid}, Task{TResult}}, CancellationToken)"/>
    public Task RunAsync(IReadOnlyCollection<Guid> invoiceIds, Func<NpgsqlConnection, IReadOnlyList<Guid>, Task> work, CancellationToken ct) =>
        RunAsync(invoiceIds, async (connection, locked) =>
        {
            await work(connection, locked);
            return true;
        }, ct);

    /// <summary>
    /// Runs <paramref name="work"/> with the connection open, holding the locks of those of <paramref name="invoiceIds"/> it
    /// could take (one round trip), and releases them afterwards.
    /// </summary>
    public async Task<TResult> RunAsync<TResult>(IReadOnlyCollection<Guid> invoiceIds, Func<NpgsqlConnection, IReadOnlyList<Guid>, Task<TResult>> work,
        CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            var keys = invoiceIds.ToDictionary(AdvisoryLocks.InvoiceCharge);
            var locked = await AdvisoryLocks.TryLockManyAsync(connection, [.. keys.Keys], ct);
            try
            {
                return await work(connection, [.. locked.Select(key => keys[key])]);
            }
            finally
            {
                await UnlockAsync(connection, locked);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task UnlockAsync(NpgsqlConnection connection, long[] keys)
    {
        try
        {
            await AdvisoryLocks.UnlockManyAsync(connection, keys);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // A broken connection has already released the lock on the server.
            logger.LogWarning(e, "Could not release the invoice charge lock explicitly");
        }
    }
}
