using Npgsql;

namespace BillingConsole.Persistence;

/// <summary>
/// The SQL of the invoice charge claim: a row in <c>invoice_charge_claims</c> (the invoice, a token, an expiry), each
/// written by one statement that commits by itself, so nothing stays held by a connection between a claim and its release
/// and PgBouncer's transaction pooling cannot hand it to someone else. The claim keeps off the invoice row: a charge would
/// otherwise update that row twice more (claim and release), and every update that no longer fits its page writes new
/// entries into all of the invoice's indexes. Claiming still locks the invoice row for its statement, so that it skips
/// invoices a void, a reported outcome or another claim holds, and those wait for it.
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
        // A claim committed by another statement since this one started is met by the conflict clause, which reads the
        // newest row: a live claim is left as it is.
        await using var command = new NpgsqlCommand("""
            with free as (
                select i.id from invoices i
                where i.id = any($1) and not exists (select 1 from invoice_charge_claims c where c.invoice_id = i.id and c.claimed_until > $2)
                order by i.id
                for no key update of i skip locked),
            claimed as (
                insert into invoice_charge_claims as c (invoice_id, token, claimed_until)
                select id, $3, $4 from free
                on conflict (invoice_id) do update set token = excluded.token, claimed_until = excluded.claimed_until
                    where c.claimed_until <= $2
                returning c.invoice_id)
            select invoice_id from claimed
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

    /// <summary>When the first live claim on <paramref name="invoiceIds"/> lapses; null when none is claimed past <paramref name="now"/>.</summary>
    public static async Task<DateTimeOffset?> FirstLapseAsync(NpgsqlDataSource dataSource, IReadOnlyCollection<Guid> invoiceIds, DateTimeOffset now,
        CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "select min(claimed_until) from invoice_charge_claims where invoice_id = any($1) and claimed_until > $2");
        command.Parameters.Add(new() { Value = invoiceIds.ToArray() });
        command.Parameters.Add(new() { Value = now });
        return await command.ExecuteScalarAsync(ct) is DateTime lapse ? new DateTimeOffset(lapse, TimeSpan.Zero) : null;
    }

    /// <summary>
    /// Deletes the claims that lapsed before <paramref name="before"/>: their holders died (a live one renews every 20
    /// seconds), and an invoice nobody charges again, paid or voided meanwhile, would otherwise keep its claim for good.
    /// Returns how many were deleted.
    /// </summary>
    public static async Task<int> DeleteLapsedAsync(NpgsqlDataSource dataSource, DateTimeOffset before, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("delete from invoice_charge_claims where claimed_until < $1");
        command.Parameters.Add(new() { Value = before });
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Moves the expiry of the claims still carrying <paramref name="token"/> to <paramref name="until"/>: their holder is alive.</summary>
    public static async Task RenewAsync(NpgsqlDataSource dataSource, IReadOnlyCollection<Guid> invoiceIds, Guid token, DateTimeOffset until,
        CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "update invoice_charge_claims set claimed_until = $3 where invoice_id = any($1) and token = $2");
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
            "delete from invoice_charge_claims where invoice_id = any($1) and token = $2", connection)
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
        // Two statements: the claim is read after the lock is granted, with a snapshot that sees a claim committed by the
        // statement the lock waited for (a read in the locking statement would use the snapshot from before the wait).
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("select 1 from invoices where id = $1 for no key update") { Parameters = { new() { Value = invoiceId } } },
                new NpgsqlBatchCommand("select exists (select 1 from invoice_charge_claims where invoice_id = $1 and claimed_until > $2)")
                {
                    Parameters = { new() { Value = invoiceId }, new() { Value = now } },
                },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        await reader.ReadAsync(ct);
        return !reader.GetBoolean(0);
    }
}
