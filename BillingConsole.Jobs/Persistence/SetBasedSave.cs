using BillingConsole.Domain.Audit;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Notifications;
using BillingConsole.Engine.Changes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using static BillingConsole.Persistence.BulkSql;

namespace BillingConsole.Persistence;

/// <summary>
/// Saves a unit of work that holds many rows of a few kinds (a round's dunning cases, their audit entries and emails) with
/// one statement per table instead of EF's statement per row: new and changed dunning cases through
/// <see cref="DunningCaseWriter"/>, new audit entries and notifications by one insert each. Whatever else the unit of work
/// holds (a final action's invoice, subscription and ledger entries, a ladder step) goes through EF, in the same
/// transaction: the caller's, or one of its own. A case changed by someone else since it was read fails the save with
/// <see cref="DbUpdateConcurrencyException"/>, as EF's own save would, and nothing of the save stays written.
/// </summary>
public sealed class SetBasedSave(BillingDbContext db, DunningCaseWriter caseWriter, ChangeCapture capture)
{
    private const string Savepoint = "set_based_save";

    public async Task SaveChangesAsync(CancellationToken ct)
    {
        var newCases = Entries<DunningCase>(EntityState.Added);
        var changedCases = Entries<DunningCase>(EntityState.Modified);
        var audit = Entries<AuditEntry>(EntityState.Added);
        var notices = Entries<Notification>(EntityState.Added);
        if (newCases.Count + changedCases.Count + audit.Count + notices.Count == 0)
        {
            await db.SaveChangesAsync(ct);
            return;
        }

        var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        var transaction = db.Database.CurrentTransaction!;
        // In the caller's transaction a failed save must leave nothing behind, as EF's savepoint around its own save does.
        if (own is null) await transaction.CreateSavepointAsync(Savepoint, ct);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            var npgsqlTransaction = (NpgsqlTransaction)transaction.GetDbTransaction();
            var written = await caseWriter.UpdateAsync(connection, npgsqlTransaction, [.. changedCases.Select(e => e.Entity)],
                [.. changedCases.Select(e => (uint)e.Property("xmin").OriginalValue!)], ct);
            if (written.Count < changedCases.Count)
            {
                throw new DbUpdateConcurrencyException(
                    $"Dunning cases {string.Join(", ", changedCases.Select(e => e.Entity.Id).Where(id => !written.Contains(id)))} were changed by someone else since they were read.");
            }
            await caseWriter.InsertAsync(connection, npgsqlTransaction, [.. newCases.Select(e => e.Entity)], ct);
            await InsertAuditAsync(connection, npgsqlTransaction, [.. audit.Select(e => e.Entity)], ct);
            await InsertNotificationsAsync(connection, npgsqlTransaction, [.. notices.Select(e => e.Entity)], ct);

            capture.NoteWritten([.. newCases.Concat(changedCases).Select(e => (object)e.Entity)]);
            // Written: the unit of work lets go of them (its callers are done with them), so that its own save leaves them be.
            foreach (var entry in newCases.Concat(changedCases)) entry.State = EntityState.Detached;
            foreach (var entry in audit) entry.State = EntityState.Detached;
            foreach (var entry in notices) entry.State = EntityState.Detached;

            await db.SaveChangesAsync(ct);
            if (own is not null) await own.CommitAsync(ct);
            else await transaction.ReleaseSavepointAsync(Savepoint, ct);
        }
        catch when (own is null)
        {
            await transaction.RollbackToSavepointAsync(Savepoint, CancellationToken.None);
            throw;
        }
        finally
        {
            if (own is not null) await own.DisposeAsync();
        }
    }

    private List<EntityEntry<T>> Entries<T>(EntityState state) where T : class =>
        [.. db.ChangeTracker.Entries<T>().Where(e => e.State == state)];

    private static async Task InsertAuditAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<AuditEntry> entries,
        CancellationToken ct)
    {
        if (entries.Count == 0) return;
        await using var insert = new NpgsqlCommand("""
            insert into audit_log (actor, actor_role, action, entity_type, entity_id, reason, before, after, occurred_at)
            select * from unnest(@actor::text[], @actor_role::text[], @action::text[], @entity_type::text[], @entity_id::text[], @reason::text[],
                                 @before::jsonb[], @after::jsonb[], @occurred_at::timestamptz[])
            """, connection, transaction);
        AddNamed(insert, "actor", entries.Select(e => e.Actor));
        AddNamed(insert, "actor_role", entries.Select(e => e.ActorRole));
        AddNamed(insert, "action", entries.Select(e => e.Action));
        AddNamed(insert, "entity_type", entries.Select(e => e.EntityType));
        AddNamed(insert, "entity_id", entries.Select(e => e.EntityId));
        AddNamed(insert, "reason", entries.Select(e => e.Reason));
        AddNamed(insert, "before", entries.Select(e => e.Before));
        AddNamed(insert, "after", entries.Select(e => e.After));
        AddNamed(insert, "occurred_at", entries.Select(e => e.OccurredAt));
        await insert.ExecuteNonQueryAsync(ct);
    }

    private static async Task InsertNotificationsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<Notification> notices,
        CancellationToken ct)
    {
        if (notices.Count == 0) return;
        await using var insert = new NpgsqlCommand("""
            insert into notifications (id, customer_id, kind, event_key, invoice_id, dunning_case_id, status, attempts, created_at, next_attempt_at)
            select * from unnest(@id::uuid[], @customer_id::uuid[], @kind::text[], @event_key::text[], @invoice_id::uuid[], @dunning_case_id::uuid[],
                                 @status::text[], @attempts::int[], @created_at::timestamptz[], @next_attempt_at::timestamptz[])
            """, connection, transaction);
        AddNamed(insert, "id", notices.Select(n => n.Id));
        AddNamed(insert, "customer_id", notices.Select(n => n.CustomerId));
        AddNamed(insert, "kind", notices.Select(n => n.Kind));
        AddNamed(insert, "event_key", notices.Select(n => n.EventKey));
        AddNamed(insert, "invoice_id", notices.Select(n => n.InvoiceId));
        AddNamed(insert, "dunning_case_id", notices.Select(n => n.DunningCaseId));
        AddNamed(insert, "status", notices.Select(n => n.Status.ToSnakeCase()));
        AddNamed(insert, "attempts", notices.Select(n => n.Attempts));
        AddNamed(insert, "created_at", notices.Select(n => n.CreatedAt));
        AddNamed(insert, "next_attempt_at", notices.Select(n => n.NextAttemptAt));
        await insert.ExecuteNonQueryAsync(ct);
    }
}
