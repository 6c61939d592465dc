using BillingConsole.Configuration;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// The per-invoice charge lock, so that two nodes or agents never charge one invoice at the same time: a claim written for
/// the invoice by one short statement and deleted by another once the outcome is recorded (<see cref="ChargeClaims"/>).
/// Nothing is held by a connection in between, so it is safe behind PgBouncer in transaction mode. Taken without waiting:
/// an invoice claimed elsewhere is left out, and the caller answers <see cref="ChargeStatus.Busy"/>. The holder renews its
/// claims while it works; those of a node that died lapse within <see cref="Lifetime"/>, and the next charge or the
/// reconciliation job then settles the attempt it left pending, under that attempt's own key.
/// </summary>
public sealed class InvoiceChargeLock(BillingDbContext db, NpgsqlDataSource dataSource, TimeProvider clock, IOptionsMonitor<BillingOptions> billing,
    ILogger<InvoiceChargeLock> logger)
{
    /// <summary>
    /// How long a claim holds unless its holder renews it (every third of it, from another connection, for as long as the
    /// work runs): how soon the invoices of a node that died can be charged again (<c>Billing:ChargeClaimSeconds</c>).
    /// </summary>
    private TimeSpan Lifetime => billing.CurrentValue.ChargeClaimLifetime;

    public static ChargeResult Busy(Guid invoiceId) => new(invoiceId, ChargeStatus.Busy, Message: "Another charge of this invoice is in progress.");

    /// <summary>
    /// Locks the invoice row for the current transaction, so that no charge starts until it ends: for a change that must
    /// not interleave with a charge (a reported outcome, a void, a final action). False when a charge holds the invoice now.
    /// </summary>
    public Task<bool> TryLockForTransactionAsync(Guid invoiceId, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null) throw new InvalidOperationException("The invoice charge lock for a transaction is taken inside one.");
        return ChargeClaims.TryHoldAsync((NpgsqlConnection)db.Database.GetDbConnection(), invoiceId, clock.GetUtcNow(), ct);
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
    /// could claim (one statement), and releases them afterwards (another).
    /// </summary>
    public async Task<TResult> RunAsync<TResult>(IReadOnlyCollection<Guid> invoiceIds, Func<NpgsqlConnection, IReadOnlyList<Guid>, Task<TResult>> work,
        CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            var token = Guid.NewGuid();
            var now = clock.GetUtcNow();
            var claimed = await ChargeClaims.TryClaimAsync(connection, invoiceIds, token, now, now + Lifetime, ct);
            using var working = new CancellationTokenSource();
            var renewing = RenewWhileWorkingAsync(claimed, token, working.Token);
            try
            {
                return await work(connection, claimed);
            }
            finally
            {
                await working.CancelAsync();
                await renewing;
                await ReleaseAsync(connection, claimed, token);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task RenewWhileWorkingAsync(List<Guid> claimed, Guid token, CancellationToken done)
    {
        if (claimed.Count == 0) return;
        try
        {
            while (true)
            {
                await Task.Delay(Lifetime / 3, clock, done);
                try
                {
                    await ChargeClaims.RenewAsync(dataSource, claimed, token, clock.GetUtcNow() + Lifetime, done);
                }
                catch (NpgsqlException e) when (!done.IsCancellationRequested)
                {
                    // The next renewal may get through; meanwhile the claims hold until their expiry.
                    logger.LogWarning(e, "Could not renew the charge claims of {Invoices} invoices", claimed.Count);
                }
            }
        }
        catch (Exception e) when (done.IsCancellationRequested && e is OperationCanceledException or NpgsqlException)
        {
            // The work is done; its claims are released next.
        }
    }

    private async Task ReleaseAsync(NpgsqlConnection connection, List<Guid> claimed, Guid token)
    {
        try
        {
            await ChargeClaims.ReleaseAsync(connection, claimed, token);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // The claims expire by themselves; until then the invoices answer busy.
            logger.LogWarning(e, "Could not release the charge claims of {Invoices} invoices; they expire after {Lifetime}", claimed.Count, Lifetime);
        }
    }
}
