using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using Npgsql;
using static BillingConsole.Persistence.BulkSql;

namespace BillingConsole.Persistence;

/// <summary>Dunning cases changed in bulk, in one statement on the caller's connection and transaction.</summary>
public sealed class DunningCaseWriter
{
    /// <summary>What a case's transitions change, in the order of <see cref="StateArrays"/>.</summary>
    private const string StateColumns =
        "status, policy_version, updated_at, closed_at, retries_made, last_decline_code, next_attempt_at, next_attempt_probability, next_attempt_reason, escalation_step, final_action";

    private const string StateArrays =
        "@status::text[], @policy_version::int[], @updated_at::timestamptz[], @closed_at::timestamptz[], @retries_made::int[], @last_decline_code::text[], " +
        "@next_attempt_at::timestamptz[], @next_attempt_probability::float8[], @next_attempt_reason::text[], @escalation_step::int[], @final_action::text[]";

    private static readonly string SetState = string.Join(", ", StateColumns.Split(", ").Select(column => $"{column} = v.{column}"));

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

    /// <summary>Inserts new cases, one statement for all of them.</summary>
    public async Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<DunningCase> cases,
        CancellationToken ct)
    {
        if (cases.Count == 0) return;
        await using var insert = new NpgsqlCommand($"""
            insert into dunning_cases (id, invoice_id, customer_id, subscription_id, amount, currency, opened_at, {StateColumns})
            select * from unnest(@id::uuid[], @invoice_id::uuid[], @customer_id::uuid[], @subscription_id::uuid[], @amount::numeric[], @currency::text[],
                                 @opened_at::timestamptz[], {StateArrays})
            """, connection, transaction);
        AddNamed(insert, "id", cases.Select(c => c.Id));
        AddNamed(insert, "invoice_id", cases.Select(c => c.InvoiceId));
        AddNamed(insert, "customer_id", cases.Select(c => c.CustomerId));
        AddNamed(insert, "subscription_id", cases.Select(c => c.SubscriptionId));
        AddNamed(insert, "amount", cases.Select(c => c.Amount.Amount));
        AddNamed(insert, "currency", cases.Select(c => c.Currency));
        AddNamed(insert, "opened_at", cases.Select(c => c.OpenedAt));
        AddState(insert, cases);
        await insert.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Saves what the domain changed on cases read earlier, one statement for all of them, each only if its row is still the
    /// version read (<paramref name="readVersions"/>, xmin). Returns the ids of the cases written; a case missing from them was
    /// changed by someone else meanwhile.
    /// </summary>
    public async Task<HashSet<Guid>> UpdateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<DunningCase> cases,
        IReadOnlyList<uint> readVersions, CancellationToken ct)
    {
        if (cases.Count == 0) return [];
        await using var update = new NpgsqlCommand($"""
            update dunning_cases c set {SetState}
            from unnest(@id::uuid[], @xmin::bigint[], {StateArrays}) as v(id, xmin, {StateColumns})
            where c.id = v.id and c.xmin::text::bigint = v.xmin
            returning c.id
            """, connection, transaction);
        AddNamed(update, "id", cases.Select(c => c.Id));
        AddNamed(update, "xmin", readVersions.Select(v => (long)v));
        AddState(update, cases);
        var written = new HashSet<Guid>();
        await using var reader = await update.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) written.Add(reader.GetGuid(0));
        return written;
    }

    private static void AddState(NpgsqlCommand command, IReadOnlyList<DunningCase> cases)
    {
        AddNamed(command, "status", cases.Select(c => c.Status.ToSnakeCase()));
        AddNamed(command, "policy_version", cases.Select(c => c.PolicyVersion));
        AddNamed(command, "updated_at", cases.Select(c => c.UpdatedAt));
        AddNamed(command, "closed_at", cases.Select(c => c.ClosedAt));
        AddNamed(command, "retries_made", cases.Select(c => c.RetriesMade));
        AddNamed(command, "last_decline_code", cases.Select(c => c.LastDeclineCode));
        AddNamed(command, "next_attempt_at", cases.Select(c => c.NextAttemptAt));
        AddNamed(command, "next_attempt_probability", cases.Select(c => c.NextAttemptProbability));
        AddNamed(command, "next_attempt_reason", cases.Select(c => c.NextAttemptReason));
        AddNamed(command, "escalation_step", cases.Select(c => c.EscalationStep));
        AddNamed(command, "final_action", cases.Select(c => c.FinalAction));
    }
}
