using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using Npgsql;
using static BillingConsole.Persistence.BulkSql;

namespace BillingConsole.Persistence;

/// <summary>Dunning cases changed in bulk, in one statement on the caller's connection and transaction.</summary>
public sealed class DunningCaseWriter
{
    /// <summary>
    /// Saves the cases whose retry has just started (<see cref="DunningCase.StartRetry"/>): status, retries made, schedule
    /// cleared, time. The caller's transaction holds their rows locked since it read them, so nobody changed them meanwhile.
    /// </summary>
    public async Task SaveRetriesStartedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<DunningCase> cases, CancellationToken ct)
    {
        if (cases.Count == 0) return;
        await using var update = new NpgsqlCommand("""
            update dunning_cases c set status = v.status, retries_made = v.retries_made, next_attempt_at = v.next_attempt_at, updated_at = v.updated_at
            from unnest($1::uuid[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[]) as v(id, status, retries_made, next_attempt_at, updated_at)
            where c.id = v.id
            """, connection, transaction);
        Add(update, cases.Select(c => c.Id));
        Add(update, cases.Select(c => c.Status.ToSnakeCase()));
        Add(update, cases.Select(c => c.RetriesMade));
        Add(update, cases.Select(c => c.NextAttemptAt));
        Add(update, cases.Select(c => c.UpdatedAt));
        await update.ExecuteNonQueryAsync(ct);
    }
}
