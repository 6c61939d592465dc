using System.Data.Common;
using BillingConsole.Domain.Billing;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace BillingConsole.Engine.Changes;

/// <summary>
/// Notes what each save of the scope's context writes and publishes it on the <see cref="ChangeFeed"/> once it is committed:
/// when the transaction commits, or straight after a save that ran in no transaction of its own. Work rolled back, or
/// whose transaction ended without a commit, is never announced. One per scope, like the context it watches.
/// </summary>
public sealed class ChangeCapture(ChangeFeed feed) : ISaveChangesInterceptor, IDbTransactionInterceptor
{
    private readonly HashSet<EntityChange> _pending = [];
    private int _suppressed;
    // EF's own transaction around a save made outside one starts while the save runs; it does not discard what the save noted.
    private bool _saving;

    /// <summary>
    /// Until disposed, saves are not announced one by one: a billing run announces itself per chunk instead, so that a
    /// million invoices do not flood the bus.
    /// </summary>
    public IDisposable Suppress()
    {
        Interlocked.Increment(ref _suppressed);
        return new Resume(this);
    }

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Note(eventData.Context);
        return result;
    }

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result,
        CancellationToken cancellationToken = default)
    {
        Note(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        _saving = false;
        PublishIfCommitted(eventData.Context);
        return result;
    }

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        _saving = false;
        PublishIfCommitted(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public void SaveChangesFailed(DbContextErrorEventData eventData)
    {
        _saving = false;
        DiscardUnlessInTransaction(eventData.Context);
    }

    public Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        _saving = false;
        DiscardUnlessInTransaction(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => PublishPending();

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData,
        CancellationToken cancellationToken = default)
    {
        PublishPending();
        return Task.CompletedTask;
    }

    // What is noted before a caller's transaction starts belongs to one that ended without a commit.
    public DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData,
        DbTransaction result)
    {
        if (!_saving) Discard();
        return result;
    }

    public ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection,
        TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
    {
        if (!_saving) Discard();
        return ValueTask.FromResult(result);
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Discard();

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData,
        CancellationToken cancellationToken = default)
    {
        Discard();
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Discard();

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData,
        CancellationToken cancellationToken = default)
    {
        Discard();
        return Task.CompletedTask;
    }

    private void Note(DbContext? context)
    {
        if (context is null) return;
        _saving = true;
        // A save in no transaction commits on its own; anything still noted is left from a transaction that never committed.
        if (context.Database.CurrentTransaction is null) Discard();
        NoteWritten(context.ChangeTracker.Entries().Where(e => e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted).Select(e => e.Entity));
    }

    /// <summary>
    /// Rows written in the current transaction by statements of their own rather than a save (a round of dunning cases by
    /// one update): announced with its commit, as a save's are.
    /// </summary>
    public void NoteWritten(IEnumerable<object> entities)
    {
        if (Volatile.Read(ref _suppressed) > 0) return;
        foreach (var entity in entities)
        {
            if (Describe(entity) is { } change)
                lock (_pending) _pending.Add(change);
        }
    }

    /// <summary>The change a written row stands for, as the pages group it; rows no page follows (audit, ledger, keys) stand for none.</summary>
    private static EntityChange? Describe(object entity) => entity switch
    {
        Customer c => new(ChangedEntity.Customer, c.Id, c.Id),
        PaymentMethod m => new(ChangedEntity.Customer, m.CustomerId, m.CustomerId),
        CustomerNote n => new(ChangedEntity.Customer, n.CustomerId, n.CustomerId),
        Subscription s => new(ChangedEntity.Subscription, s.Id, s.CustomerId),
        Invoice i => new(ChangedEntity.Invoice, i.Id, i.CustomerId),
        PaymentAttempt a => new(ChangedEntity.Payment, a.Id, a.CustomerId),
        DunningCase d => new(ChangedEntity.DunningCase, d.Id, d.CustomerId),
        BillingRun r => new(ChangedEntity.BillingRun, r.Id),
        BillingRunChunk c => new(ChangedEntity.BillingRun, c.RunId),
        SettingRecord or DunningPolicyVersion => new(ChangedEntity.Settings),
        _ => null,
    };

    private void PublishIfCommitted(DbContext? context)
    {
        if (context?.Database.CurrentTransaction is null) PublishPending();
    }

    private void DiscardUnlessInTransaction(DbContext? context)
    {
        if (context?.Database.CurrentTransaction is null) Discard();
    }

    private void PublishPending()
    {
        EntityChange[] committed;
        lock (_pending)
        {
            committed = [.. _pending];
            _pending.Clear();
        }
        feed.Publish(committed);
    }

    private void Discard()
    {
        lock (_pending) _pending.Clear();
    }

    private sealed class Resume(ChangeCapture capture) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref capture._suppressed);
        }
    }
}
