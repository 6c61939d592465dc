using BillingConsole.Domain.Billing;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Engine.Notifications;
using Npgsql;
using NpgsqlTypes;
using static BillingConsole.Persistence.BulkSql;

namespace BillingConsole.Persistence;

/// <summary>
/// The billing run's batched SQL: a chunk's reads and writes in a handful of round trips on the chunk's own connection and
/// transaction. Invoices go through a multi-row INSERT … ON CONFLICT DO NOTHING on the cycle key; lines and ledger entries,
/// which belong only to rows just written, go through binary COPY. Charging the chunk's invoices writes through
/// <see cref="PaymentAttemptWriter"/>.
/// </summary>
public sealed class BillingChunkWriter(NpgsqlDataSource dataSource)
{
    private const string Billable = "('trialing', 'active', 'past_due')";

    /// <summary>The days until due of those of these customers who are sent their invoices (send_invoice); the others are charged.</summary>
    public async Task<Dictionary<Guid, int>> DaysUntilDueAsync(NpgsqlConnection connection, Guid[] customerIds, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("select id, days_until_due from customers where id = any($1) and days_until_due is not null", connection)
        {
            Parameters = { new() { Value = customerIds } },
        };
        var days = new Dictionary<Guid, int>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) days[reader.GetGuid(0)] = reader.GetInt32(1);
        return days;
    }

    /// <summary>
    /// Cycle invoices that already exist for the coming periods of these subscriptions (written by another path). Read per
    /// subscription, so the unique index serves it even while a run's first chunks leave the planner without statistics of a
    /// fast-growing invoices table: the <c>offset 0</c> keeps the lateral read from being flattened into a join, which was
    /// planned as a walk of the whole index (0.15 s a chunk).
    /// </summary>
    public async Task<HashSet<(Guid SubscriptionId, DateTimeOffset PeriodStart)>> ExistingCycleInvoicesAsync(NpgsqlConnection connection,
        Guid[] subscriptionIds, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            select i.subscription_id, i.period_start
            from subscriptions s cross join lateral (
                select i.subscription_id, i.period_start from invoices i
                where i.subscription_id = s.id and i.kind = 'subscription_cycle' and i.period_start >= s.current_period_end
                offset 0) i
            where s.id = any($1)
            """, connection)
        {
            Parameters = { new() { Value = subscriptionIds } },
        };
        var existing = new HashSet<(Guid, DateTimeOffset)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) existing.Add((reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)));
        return existing;
    }

    public async Task WriteInvoicesAsync(NpgsqlConnection connection, IReadOnlyList<IssuedInvoice> issued, CancellationToken ct)
    {
        if (issued.Count == 0) return;
        var invoices = issued.Select(i => i.Invoice).ToList();
        try
        {
            await using var copy = await connection.BeginBinaryImportAsync(
                "copy invoices (id, number, customer_id, subscription_id, kind, status, currency, period_start, period_end, created_at, issued_at, due_at, paid_at, billing_run_id, attempt_count, amount_paid, amount_written_off, credit_applied, subtotal, tax, total) from stdin (format binary)", ct);
            foreach (var invoice in invoices)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(invoice.Id, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(invoice.Number!, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(invoice.CustomerId, NpgsqlDbType.Uuid, ct);
                await copy.WriteNullableAsync(invoice.SubscriptionId, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(invoice.Kind.ToSnakeCase(), NpgsqlDbType.Text, ct);
                await copy.WriteAsync(invoice.Status.ToSnakeCase(), NpgsqlDbType.Text, ct);
                await copy.WriteAsync(invoice.Currency, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(invoice.PeriodStart, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteAsync(invoice.PeriodEnd, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteAsync(invoice.CreatedAt, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteNullableAsync(invoice.IssuedAt, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteNullableAsync(invoice.DueAt, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteNullableAsync(invoice.PaidAt, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteNullableAsync(invoice.BillingRunId, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(0, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(0m, NpgsqlDbType.Numeric, ct);
                await copy.WriteAsync(0m, NpgsqlDbType.Numeric, ct);
                await copy.WriteAsync(invoice.CreditApplied.Amount, NpgsqlDbType.Numeric, ct);
                await copy.WriteAsync(invoice.Subtotal.Amount, NpgsqlDbType.Numeric, ct);
                await copy.WriteAsync(invoice.Tax.Amount, NpgsqlDbType.Numeric, ct);
                await copy.WriteAsync(invoice.Total.Amount, NpgsqlDbType.Numeric, ct);
            }
            await copy.CompleteAsync(ct);
        }
        catch (PostgresException e) when (e is { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "ux_invoices_subscription_period" })
        {
            // The chunk checked for existing invoices under its locks; a conflict now means another writer raced it, and the
            // credit and ledger computed here would be wrong. Rolling back lets the rerun see that invoice and skip it.
            throw new InvalidOperationException("A cycle invoice of this chunk already existed; the chunk was rolled back.", e);
        }
        // The invoice emails, committed with the invoices.
        await using (var notices = NotificationOutbox.InvoicesIssued(connection, null, invoices.Select(i => i.Id), invoices[0].IssuedAt!.Value))
            await notices.ExecuteNonQueryAsync(ct);

        await using (var lines = await connection.BeginBinaryImportAsync(
            "copy invoice_lines (id, invoice_id, kind, description, quantity, currency, period_start, period_end, price_id, amount, unit_amount, tax_rate, tax_amount, reverse_charge, tax_country, tax_region) from stdin (format binary)", ct))
        {
            foreach (var invoice in invoices)
            {
                foreach (var line in invoice.Lines)
                {
                    await lines.StartRowAsync(ct);
                    await lines.WriteAsync(line.Id, NpgsqlDbType.Uuid, ct);
                    await lines.WriteAsync(invoice.Id, NpgsqlDbType.Uuid, ct);
                    await lines.WriteAsync(line.Kind.ToSnakeCase(), NpgsqlDbType.Text, ct);
                    await lines.WriteAsync(line.Description, NpgsqlDbType.Text, ct);
                    await lines.WriteAsync(line.Quantity, NpgsqlDbType.Integer, ct);
                    await lines.WriteAsync(line.Currency, NpgsqlDbType.Text, ct);
                    await lines.WriteAsync(line.PeriodStart, NpgsqlDbType.TimestampTz, ct);
                    await lines.WriteAsync(line.PeriodEnd, NpgsqlDbType.TimestampTz, ct);
                    if (line.PriceId is { } priceId) await lines.WriteAsync(priceId, NpgsqlDbType.Uuid, ct);
                    else await lines.WriteNullAsync(ct);
                    await lines.WriteAsync(line.Amount.Amount, NpgsqlDbType.Numeric, ct);
                    await lines.WriteAsync(line.UnitAmount.Amount, NpgsqlDbType.Numeric, ct);
                    await lines.WriteAsync(line.TaxRate, NpgsqlDbType.Numeric, ct);
                    await lines.WriteAsync(line.TaxAmount.Amount, NpgsqlDbType.Numeric, ct);
                    await lines.WriteAsync(line.ReverseCharge, NpgsqlDbType.Boolean, ct);
                    await lines.WriteAsync(line.TaxCountry, NpgsqlDbType.Text, ct);
                    if (line.TaxRegion is { } region) await lines.WriteAsync(region, NpgsqlDbType.Text, ct);
                    else await lines.WriteNullAsync(ct);
                }
            }
            await lines.CompleteAsync(ct);
        }

        await CopyLedgerEntriesAsync(connection, [.. issued.SelectMany(i => i.LedgerEntries)], ct);
    }

    /// <summary>Writes the subscriptions' new periods, statuses and plan as the domain left them.</summary>
    public async Task UpdateSubscriptionsAsync(NpgsqlConnection connection, IReadOnlyList<Subscription> subscriptions, CancellationToken ct)
    {
        if (subscriptions.Count == 0) return;
        await using var update = new NpgsqlCommand("""
            update subscriptions s
            set status = v.status, price_id = v.price_id, quantity = v.quantity, current_period_start = v.period_start,
                current_period_end = v.period_end, pending_price_id = v.pending_price_id, pending_quantity = v.pending_quantity,
                cancel_at_period_end = v.cancel_at_period_end, canceled_at = v.canceled_at, cancellation_kind = v.cancellation_kind
            from unnest($1::uuid[], $2::text[], $3::uuid[], $4::int[], $5::timestamptz[], $6::timestamptz[], $7::uuid[], $8::int[], $9::bool[],
                        $10::timestamptz[], $11::text[])
                 as v(id, status, price_id, quantity, period_start, period_end, pending_price_id, pending_quantity, cancel_at_period_end,
                      canceled_at, cancellation_kind)
            where s.id = v.id
            """, connection);
        Add(update, subscriptions.Select(s => s.Id));
        Add(update, subscriptions.Select(s => s.Status.ToSnakeCase()));
        Add(update, subscriptions.Select(s => s.PriceId));
        Add(update, subscriptions.Select(s => s.Quantity));
        Add(update, subscriptions.Select(s => s.CurrentPeriodStart));
        Add(update, subscriptions.Select(s => s.CurrentPeriodEnd));
        Add(update, subscriptions.Select(s => s.PendingPriceId));
        Add(update, subscriptions.Select(s => s.PendingQuantity));
        Add(update, subscriptions.Select(s => s.CancelAtPeriodEnd));
        Add(update, subscriptions.Select(s => s.CanceledAt));
        Add(update, subscriptions.Select(s => s.CancellationKind?.ToSnakeCase()));
        await update.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Records which invoice carried each waiting proration line.</summary>
    public async Task MarkLinesInvoicedAsync(NpgsqlConnection connection, IReadOnlyList<PendingInvoiceLine> lines, CancellationToken ct)
    {
        if (lines.Count == 0) return;
        await using var update = new NpgsqlCommand(
            "update pending_invoice_lines l set invoice_id = v.invoice_id from unnest($1::uuid[], $2::uuid[]) as v(id, invoice_id) where l.id = v.id",
            connection);
        Add(update, lines.Select(l => l.Id));
        Add(update, lines.Select(l => l.InvoiceId!.Value));
        await update.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Writes the customers' new credit balances, each only over the balance the chunk read under the customer lock: should
    /// one have moved meanwhile, the chunk fails and rolls back instead of overwriting it.
    /// </summary>
    public async Task UpdateCreditBalancesAsync(NpgsqlConnection connection, IReadOnlyDictionary<Guid, (Money Before, Money After)> balances,
        CancellationToken ct)
    {
        if (balances.Count == 0) return;
        await using var update = new NpgsqlCommand("""
            update customers c set credit_balance = v.balance
            from unnest($1::uuid[], $2::numeric[], $3::numeric[]) as v(id, balance, before)
            where c.id = v.id and c.credit_balance = v.before
            """, connection);
        Add(update, balances.Keys);
        Add(update, balances.Values.Select(b => b.After.Amount));
        Add(update, balances.Values.Select(b => b.Before.Amount));
        if (await update.ExecuteNonQueryAsync(ct) != balances.Count)
            throw new InvalidOperationException("A customer's credit balance changed under the chunk's lock; the chunk was rolled back.");
    }

    /// <summary>Marks the chunk invoiced and adds to the run's counters, once: a rerun of an invoiced chunk changes nothing.</summary>
    public async Task RecordChunkInvoicedAsync(NpgsqlConnection connection, Guid runId, int chunkNumber, int invoiced, DateTimeOffset at, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            with chunk as (
                update billing_run_chunks set invoiced_at = $3, invoiced_count = $4
                where run_id = $1 and number = $2 and invoiced_at is null
                returning 1)
            update billing_runs set invoiced_count = invoiced_count + $4, chunks_done = chunks_done + 1
            where id = $1 and exists (select 1 from chunk)
            """, connection)
        {
            Parameters = { new() { Value = runId }, new() { Value = chunkNumber }, new() { Value = at }, new() { Value = invoiced } },
        };
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The run's open invoices for these subscriptions that were never tried, or whose try never reached the gateway or was
    /// left unknown (each is looked up with its own key before anything is sent again). Customers sent their invoices
    /// (send_invoice) pay them themselves: theirs are never charged.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> InvoicesToChargeAsync(NpgsqlConnection connection, Guid runId, Guid[] subscriptionIds, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            select i.id from invoices i
            where i.subscription_id = any($2) and i.billing_run_id = $1
              and i.status = 'open' and i.amount_due > 0
              and exists (select 1 from customers c where c.id = i.customer_id and c.collection_method = 'charge_automatically')
              and (i.attempt_count = 0 or exists (select 1 from payment_attempts a where a.invoice_id = i.id and a.status in ('pending', 'unknown')))
            order by i.id
            """, connection)
        {
            Parameters = { new() { Value = runId }, new() { Value = subscriptionIds } },
        };
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetGuid(0));
        return ids;
    }

    /// <summary>
    /// Marks the chunk charged with counts read from its payment attempts and moves the run's counters by the difference from
    /// what the chunk had recorded. Counting from the attempts makes a rerun, or a second node charging the same chunk,
    /// leave the counters equal to the database whichever finishes last. Returns the chunk's counts. A chunk not
    /// <paramref name="finished"/> (charging deferred) moves its counters but stays to be charged.
    /// </summary>
    public async Task<(int Charged, int Failed)> RecordChunkChargedAsync(NpgsqlConnection connection, Guid runId, BillingRunChunk chunk,
        DateTimeOffset at, bool finished, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var read = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                Statement("select charged_count, failed_count from billing_run_chunks where run_id = $1 and number = $2 for update", runId, chunk.Number),
                // Per subscription, then per invoice, so that both reads follow their indexes: while a run writes these tables
                // their statistics still describe small ones, and a join was planned as a scan of all the attempts, or of all
                // the run's invoices (0.1-0.4 s a chunk). The offset keeps the first read from being flattened into a join.
                Statement("""
                    select coalesce(sum(c.succeeded), 0)::int, coalesce(sum(c.failed), 0)::int
                    from unnest($2::uuid[]) as s(id)
                    cross join lateral (select i.id from invoices i where i.billing_run_id = $1 and i.subscription_id = s.id offset 0) i
                    cross join lateral (
                        select count(*) filter (where a.status = 'succeeded') as succeeded, count(*) filter (where a.status in ('failed', 'unknown')) as failed
                        from payment_attempts a where a.invoice_id = i.id and a.trigger = 'billing_run') c
                    """, runId, chunk.SubscriptionIds),
            },
        };
        int recordedCharged, recordedFailed, charged, failed;
        await using (var reader = await read.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (recordedCharged, recordedFailed) = (reader.GetInt32(0), reader.GetInt32(1));
            await reader.NextResultAsync(ct);
            await reader.ReadAsync(ct);
            (charged, failed) = (reader.GetInt32(0), reader.GetInt32(1));
        }
        await using var update = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                Statement("update billing_run_chunks set charged_at = case when $6 then coalesce(charged_at, $3) else charged_at end, charged_count = $4, failed_count = $5 where run_id = $1 and number = $2",
                    runId, chunk.Number, at, charged, failed, finished),
                Statement("update billing_runs set charged_count = charged_count + $2, failed_count = failed_count + $3 where id = $1",
                    runId, charged - recordedCharged, failed - recordedFailed),
            },
        };
        await update.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
        return (charged, failed);
    }

    /// <summary>
    /// Completes the run once every chunk is charged. Each chunk calls this after committing its own mark, so the last one to
    /// finish always sees all the others. A run failed by one chunk completes when that chunk is rerun successfully.
    /// </summary>
    public async Task CompleteRunIfDoneAsync(Guid runId, DateTimeOffset at, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            update billing_runs r set status = 'completed', finished_at = $2
            where r.id = $1 and r.status in ('running', 'failed')
              and not exists (select 1 from billing_run_chunks c where c.run_id = r.id and c.charged_at is null)
            """);
        command.Parameters.Add(new() { Value = runId });
        command.Parameters.Add(new() { Value = at });
        await command.ExecuteNonQueryAsync(ct);
    }
}
