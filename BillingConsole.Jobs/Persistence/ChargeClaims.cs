using Npgsql;

namespace BillingConsole.Persistence;

/// <summary>
/// The SQL of the invoice charge claim: a token and an expiry on the invoice row (charge_claim_token, charge_claimed_until),
/// each written by one statement that commits by itself, so nothing stays held by a connection between a claim and its
/// release and PgBouncer's transaction pooling cannot hand it to someone else.
/// </summary>
public static class ChargeClaims
{
    /// <summary>
    /// Claims those of <paramref name="invoiceIds"/> that nobody holds (no claim, or one expired by <paramref name="now"/>)
    /// until <paramref name="until"/>, in one statement; returns the invoices claimed, and those that do not exist (nobody
    /// can charge them, and the caller says so as it would after claiming). Rows another transaction has locked are
    /// skipped, not waited for: a charge, a void or a reported outcome is on them right now.
    /// </summary>
    public static async Task<List<Guid>> TryClaimAsync(NpgsqlConnection connection, IReadOnlyCollection<Guid> invoiceIds, Guid token,
        DateTimeOffset now, DateTimeOffset until, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            with free as (
                select id from invoices
                where id = any($1) and (charge_claimed_until is null or charge_claimed_until <= $2)
                order by id
                for no key update skip locked),
            claimed as (
                update invoices i set charge_claim_token = $3, charge_claimed_until = $4
                from free where i.id = free.id
                returning i.id)
            select id from claimed
            union all
            select v.id from unnest($1) as v(id) where not exists (select 1 from invoices i where i.id = v.id)
            """, connection)
        {
            Parameters = { new() { Value = invoiceIds.ToArray() }, new() { Value = now }, new() { Value = token }, new() { Value = until } },
        };
        var claimed = new List<Guid>(invoiceIds.Count);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) claimed.Add(reader.GetGuid(0));
        return claimed;
    }

    /// <summary>Moves the expiry of the claims still carrying <paramref name="token"/> to <paramref name="until"/>: their holder is alive.</summary>
    public static async Task RenewAsync(NpgsqlDataSource dataSource, IReadOnlyCollection<Guid> invoiceIds, Guid token, DateTimeOffset until,
        CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "update invoices set charge_claimed_until = $3 where id = any($1) and charge_claim_token = $2");
        command.Parameters.Add(new() { Value = invoiceIds.ToArray() });
        command.Parameters.Add(new() { Value = token });
        command.Parameters.Add(new() { Value = until });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Clears the claims still carrying <paramref name="token"/>; one that expired and was claimed again is left to its new holder.</summary>
    public static async Task ReleaseAsync(NpgsqlConnection connection, IReadOnlyCollection<Guid> invoiceIds, Guid token)
    {
        if (invoiceIds.Count == 0) return;
        await using var command = new NpgsqlCommand(
            "update invoices set charge_claim_token = null, charge_claimed_until = null where id = any($1) and charge_claim_token = $2", connection)
        {
            Parameters = { new() { Value = invoiceIds.ToArray() }, new() { Value = token } },
        };
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    /// <summary>
    /// Locks the invoice row until the current transaction ends, so that no claim is taken meanwhile; false when a live
    /// claim is on it (a charge is in progress). True for an invoice that does not exist: no charge can hold it.
    /// </summary>
    public static async Task<bool> TryHoldAsync(NpgsqlConnection connection, Guid invoiceId, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "select coalesce(charge_claimed_until > $2, false) from invoices where id = $1 for no key update", connection)
        {
            Parameters = { new() { Value = invoiceId }, new() { Value = now } },
        };
        return await command.ExecuteScalarAsync(ct) is not true;
    }
}
