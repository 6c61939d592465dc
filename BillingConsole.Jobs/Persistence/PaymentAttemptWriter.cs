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
/// Charging a batch of invoices in a few round trips on the caller's connection: the new attempts written as pending before the
/// gateway is called, then the outcomes with the invoices they paid, their ledger entries and the subscriptions they moved.
/// </summary>
public sealed class PaymentAttemptWriter
{
    /// <summary>Saves new attempts as pending and counts them on their invoices, committed before the gateway is called.</summary>
    public async Task InsertPendingAttemptsAsync(NpgsqlConnection connection, IReadOnlyList<PaymentAttempt> attempts, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy payment_attempts (id, invoice_id, customer_id, payment_method_id, attempt_number, idempotency_key, currency, gateway, trigger, status, started_at, amount) from stdin (format binary)", ct))
        {
            foreach (var attempt in attempts)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(attempt.Id, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(attempt.InvoiceId, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(attempt.CustomerId, NpgsqlDbType.Uuid, ct);
                if (attempt.PaymentMethodId is { } methodId) await copy.WriteAsync(methodId, NpgsqlDbType.Uuid, ct);
                else await copy.WriteNullAsync(ct);
                await copy.WriteAsync(attempt.AttemptNumber, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(attempt.IdempotencyKey, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(attempt.Currency, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(attempt.Gateway, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(attempt.Trigger.ToSnakeCase(), NpgsqlDbType.Text, ct);
                await copy.WriteAsync(attempt.Status.ToSnakeCase(), NpgsqlDbType.Text, ct);
                await copy.WriteAsync(attempt.StartedAt, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteAsync(attempt.Amount.Amount, NpgsqlDbType.Numeric, ct);
            }
            await copy.CompleteAsync(ct);
        }
        await using (var count = new NpgsqlCommand(
            "update invoices i set attempt_count = v.attempt_number from unnest($1::uuid[], $2::int[]) as v(id, attempt_number) where i.id = v.id", connection, transaction))
        {
            Add(count, attempts.Select(a => a.InvoiceId));
            Add(count, attempts.Select(a => a.AttemptNumber));
            await count.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// Saves charge outcomes as the domain recorded them: the attempts, the invoices they paid, the payments' ledger entries and
    /// the subscriptions whose status moved. A subscription changed by someone else meanwhile is left as they left it.
    /// Attempts in <paramref name="unsent"/> never reached the gateway (the circuit breaker held them back): they are taken
    /// back, with their invoice's attempt count, so the invoice is charged later as if never tried.
    /// </summary>
    public async Task RecordChargeOutcomesAsync(NpgsqlConnection connection, IReadOnlyList<PaymentAttempt> attempts, IReadOnlyList<PaymentAttempt> unsent,
        IReadOnlyList<Invoice> paid, IReadOnlyList<LedgerEntry> ledger, IReadOnlyList<(Subscription Subscription, SubscriptionStatus Before)> subscriptions,
        CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (unsent.Count > 0)
        {
            await using var withdraw = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    Statement("delete from payment_attempts where id = any($1) and status = 'pending'", unsent.Select(a => a.Id).ToArray()),
                    Statement("update invoices set attempt_count = attempt_count - 1 where id = any($1)", unsent.Select(a => a.InvoiceId).ToArray()),
                },
            };
            await withdraw.ExecuteNonQueryAsync(ct);
        }
        await using (var update = new NpgsqlCommand("""
            update payment_attempts a
            set status = v.status, decline_code = v.decline_code, failure_message = v.failure_message, gateway_reference = v.gateway_reference,
                completed_at = v.completed_at, latency_ms = v.latency_ms
            from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::int[])
                 as v(id, status, decline_code, failure_message, gateway_reference, completed_at, latency_ms)
            where a.id = v.id
            """, connection, transaction))
        {
            Add(update, attempts.Select(a => a.Id));
            Add(update, attempts.Select(a => a.Status.ToSnakeCase()));
            Add(update, attempts.Select(a => a.DeclineCode));
            Add(update, attempts.Select(a => a.FailureMessage));
            Add(update, attempts.Select(a => a.GatewayReference));
            Add(update, attempts.Select(a => a.CompletedAt));
            Add(update, attempts.Select(a => a.LatencyMs));
            await update.ExecuteNonQueryAsync(ct);
        }
        if (paid.Count > 0)
        {
            await using var update = new NpgsqlCommand("""
                update invoices i set status = v.status, paid_at = v.paid_at, amount_paid = v.amount_paid, amount_written_off = v.amount_written_off
                from unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::numeric[], $5::numeric[]) as v(id, status, paid_at, amount_paid, amount_written_off)
                where i.id = v.id
                """, connection, transaction);
            Add(update, paid.Select(i => i.Id));
            Add(update, paid.Select(i => i.Status.ToSnakeCase()));
            Add(update, paid.Select(i => i.PaidAt));
            Add(update, paid.Select(i => i.AmountPaid.Amount));
            Add(update, paid.Select(i => i.AmountWrittenOff.Amount));
            await update.ExecuteNonQueryAsync(ct);
        }
        await CopyLedgerEntriesAsync(connection, ledger, ct);
        if (attempts.Count > 0)
        {
            // The receipts and payment-failed emails, committed with the outcomes they tell of.
            await using var notices = NotificationOutbox.ChargeOutcomes(connection, transaction, attempts.Select(a => a.Id),
                attempts.Max(a => a.CompletedAt ?? a.StartedAt));
            await notices.ExecuteNonQueryAsync(ct);
        }
        if (subscriptions.Count > 0)
        {
            await using var update = new NpgsqlCommand("""
                update subscriptions s set status = v.status, plan_changes_blocked = v.plan_changes_blocked
                from unnest($1::uuid[], $2::text[], $3::bool[], $4::text[]) as v(id, status, plan_changes_blocked, before)
                where s.id = v.id and s.status = v.before
                """, connection, transaction);
            Add(update, subscriptions.Select(s => s.Subscription.Id));
            Add(update, subscriptions.Select(s => s.Subscription.Status.ToSnakeCase()));
            Add(update, subscriptions.Select(s => s.Subscription.PlanChangesBlocked));
            Add(update, subscriptions.Select(s => s.Before.ToSnakeCase()));
            await update.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
    }
}
