using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace BillingConsole.Persistence.Availability;

/// <summary>
/// Refuses EF work while the node is read-only with <see cref="ReadOnlyException"/>, before anything reaches the database:
/// opening a connection (the database is gone, so waiting for a connect timeout would only delay the same answer),
/// starting a transaction and saving changes on one already open.
/// </summary>
public sealed class ReadOnlyWriteGuard(ReadOnlyState state) : DbTransactionInterceptor, ISaveChangesInterceptor, IDbConnectionInterceptor
{
    public ValueTask<InterceptionResult> ConnectionOpeningAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result,
        CancellationToken cancellationToken = default)
    {
        state.EnsureWritable();
        return ValueTask.FromResult(result);
    }

    public InterceptionResult ConnectionOpening(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        state.EnsureWritable();
        return result;
    }

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result,
        CancellationToken cancellationToken = default)
    {
        state.EnsureWritable();
        return ValueTask.FromResult(result);
    }

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        state.EnsureWritable();
        return result;
    }

    public override ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData,
        InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        state.EnsureWritable();
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData,
        InterceptionResult<DbTransaction> result)
    {
        state.EnsureWritable();
        return result;
    }
}
