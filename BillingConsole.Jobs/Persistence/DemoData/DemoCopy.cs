using BillingConsole.Domain.Audit;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Ledger;
using Npgsql;
using NpgsqlTypes;

namespace BillingConsole.Persistence.DemoData;

/// <summary>
/// Writes rows with binary COPY, table by table, in foreign-key order. Generated and identity columns (invoices.amount_due,
/// ledger_entries.id, audit_log.id) are left to PostgreSQL.
/// </summary>
internal static class DemoCopy
{
    /// <summary>Writes one chunk's rows; returns the number of rows written per table.</summary>
    public static IEnumerable<(string Table, long Rows)> WriteChunk(NpgsqlConnection connection, ChunkOutput chunk)
    {
        yield return ("customers", Customers(connection, chunk.Customers));
        yield return ("payment_methods", PaymentMethods(connection, chunk.PaymentMethods));
        yield return ("subscriptions", Subscriptions(connection, chunk.Subscriptions));
        yield return ("invoices", Invoices(connection, chunk.Invoices));
        yield return ("invoice_lines", InvoiceLines(connection, chunk.InvoiceLines));
        yield return ("payment_attempts", PaymentAttempts(connection, chunk.PaymentAttempts));
        yield return ("dunning_cases", DunningCases(connection, chunk.DunningCases));
        yield return ("ledger_entries", LedgerEntries(connection, chunk.LedgerEntries));
        yield return ("audit_log", AuditEntries(connection, chunk.AuditEntries));
    }

    private static long Copy<T>(NpgsqlConnection connection, string table, string columns, IReadOnlyList<T> rows,
        Action<NpgsqlBinaryImporter, T> write)
    {
        if (rows.Count == 0) return 0;
        using var importer = connection.BeginBinaryImport($"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)");
        foreach (var row in rows)
        {
            importer.StartRow();
            write(importer, row);
        }
        return (long)importer.Complete();
    }

    private static long Customers(NpgsqlConnection connection, IReadOnlyList<CustomerRow> rows) =>
        Copy(connection, "customers",
            "id, name, email, currency, external_ref, created_at, dunning_paused, credit_balance, address_line1, address_line2, address_city, address_postal_code, address_country",
            rows, static (w, r) =>
            {
                w.Write(r.Id, NpgsqlDbType.Uuid);
                w.Write(r.Name, NpgsqlDbType.Text);
                w.Write(r.Email, NpgsqlDbType.Text);
                w.Write(r.Currency, NpgsqlDbType.Char);
                w.WriteText(r.ExternalRef);
                w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz);
                w.Write(r.DunningPaused, NpgsqlDbType.Boolean);
                w.Write(r.CreditBalance, NpgsqlDbType.Numeric);
                w.Write(r.Line1, NpgsqlDbType.Text);
                w.WriteText(r.Line2);
                w.Write(r.City, NpgsqlDbType.Text);
                w.Write(r.PostalCode, NpgsqlDbType.Text);
                w.Write(r.Country, NpgsqlDbType.Text);
            });

    private static long PaymentMethods(NpgsqlConnection connection, IReadOnlyList<PaymentMethodRow> rows) =>
        Copy(connection, "payment_methods",
            "id, customer_id, gateway, token, brand, last4, exp_month, exp_year, is_default, created_at, detached_at",
            rows, static (w, r) =>
            {
                w.Write(r.Id, NpgsqlDbType.Uuid);
                w.Write(r.CustomerId, NpgsqlDbType.Uuid);
                w.Write(DemoDataGenerator.Gateway, NpgsqlDbType.Text);
                w.Write(r.Token, NpgsqlDbType.Text);
                w.Write(r.Brand, NpgsqlDbType.Text);
                w.Write(r.Last4, NpgsqlDbType.Char);
                w.Write(r.ExpMonth, NpgsqlDbType.Integer);
                w.Write(r.ExpYear, NpgsqlDbType.Integer);
                w.Write(r.IsDefault, NpgsqlDbType.Boolean);
                w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz);
                w.WriteTime(r.DetachedAt);
            });

    private static long Subscriptions(NpgsqlConnection connection, IReadOnlyList<SubscriptionRow> rows) =>
        Copy(connection, "subscriptions",
            "id, customer_id, price_id, quantity, status, created_at, current_period_start, current_period_end, trial_end, cancel_at_period_end, canceled_at, cancellation_kind, paused_at, pending_price_id, pending_quantity, plan_changes_blocked",
            rows, static (w, r) =>
            {
                w.Write(r.Id, NpgsqlDbType.Uuid);
                w.Write(r.CustomerId, NpgsqlDbType.Uuid);
                w.Write(r.Price.Id, NpgsqlDbType.Uuid);
                w.Write(r.Quantity, NpgsqlDbType.Integer);
                w.Write(Snake(r.Status), NpgsqlDbType.Text);
                w.Write(r.CreatedAt, NpgsqlDbType.TimestampTz);
                w.Write(r.CurrentPeriodStart, NpgsqlDbType.TimestampTz);
                w.Write(r.CurrentPeriodEnd, NpgsqlDbType.TimestampTz);
                w.WriteTime(r.TrialEnd);
                w.Write(r.CancelAtPeriodEnd, NpgsqlDbType.Boolean);
                w.WriteTime(r.CanceledAt);
                w.WriteText(r.CancellationKind is { } kind ? Snake(kind) : null);
                w.WriteTime(r.PausedAt);
                w.WriteId(r.PendingPrice?.Id);
                w.WriteInt(r.PendingQuantity);
                w.Write(r.PlanChangesBlocked, NpgsqlDbType.Boolean);
            });

    private static long Invoices(NpgsqlConnection connection, IReadOnlyList<InvoiceRow> rows) =>
        Copy(connection, "invoices",
            "id, number, customer_id, subscription_id, kind, status, currency, period_start, period_end, created_at, issued_at, due_at, paid_at, voided_at, marked_uncollectible_at, billing_run_id, attempt_count, subtotal, tax, total, credit_applied, amount_paid, amount_written_off",
            rows, static (w, r) =>
            {
                w.Write(r.Id, NpgsqlDbType.Uuid);
                w.Write(r.Number, NpgsqlDbType.Text);
                w.Write(r.CustomerId, NpgsqlDbType.Uuid);
                w.WriteId(r.SubscriptionId);
                w.Write(Snake(r.Kind), NpgsqlDbType.Text);
                w.Write(Snake(r.Status), NpgsqlDbType.Text);
                w.Write(r.Currency, NpgsqlDbType.Char);
                w.Write(r.PeriodStart, NpgsqlDbType.TimestampTz);
                w.Write(r.PeriodEnd, NpgsqlDbType.TimestampTz);
                w.Write(r.IssuedAt, NpgsqlDbType.TimestampTz);
                w.Write(r.IssuedAt, NpgsqlDbType.TimestampTz);
                w.Write(r.IssuedAt, NpgsqlDbType.TimestampTz);
                w.WriteTime(r.PaidAt);
                w.WriteTime(r.VoidedAt);
                w.WriteTime(r.MarkedUncollectibleAt);
                w.WriteId(r.BillingRunId);
                w.Write(r.AttemptCount, NpgsqlDbType.Integer);
                w.Write(r.Subtotal, NpgsqlDbType.Numeric);
                w.Write(r.Tax, NpgsqlDbType.Numeric);
                w.Write(r.Total, NpgsqlDbType.Numeric);
                w.Write(r.CreditApplied, NpgsqlDbType.Numeric);
                w.Write(r.AmountPaid, NpgsqlDbType.Numeric);
                w.Write(r.AmountWrittenOff, NpgsqlDbType.Numeric);
            });

    private static long InvoiceLines(NpgsqlConnection connection, IReadOnlyList<InvoiceLineRow> rows) =>
        Copy(connection, "invoice_lines",
            "id, invoice_id, kind, description, quantity, currency, period_start, period_end, price_id, unit_amount, amount",
            rows, static (w, r) =>
            {
                w.Write(r.Id, NpgsqlDbType.Uuid);
                w.Write(r.InvoiceId, NpgsqlDbType.Uuid);
                w.Write(Snake(r.Kind), NpgsqlDbType.Text);
                w.Write(r.Description, NpgsqlDbType.Text);
                w.Write(r.Quantity, NpgsqlDbType.Integer);
                w.Write(r.Currency, NpgsqlDbType.Char);
                w.Write(r.PeriodStart, NpgsqlDbType.TimestampTz);
                w.Write(r.PeriodEnd, NpgsqlDbType.TimestampTz);
                w.WriteId(r.PriceId);
                w.Write(r.UnitAmount, NpgsqlDbType.Numeric);
                w.Write(r.Amount, NpgsqlDbType.Numeric);
            });

    private static long PaymentAttempts(NpgsqlConnection connection, IReadOnlyList<PaymentAttemptRow> rows) =>
        Copy(connection, "payment_attempts",
            "id, invoice_id, customer_id, payment_method_id, attempt_number, idempotency_key, currency, gateway, trigger, status, decline_code, failure_message, gateway_reference, started_at, completed_at, latency_ms, amount",
            rows, static (w, r) =>
            {
                w.Write(r.Id, NpgsqlDbType.Uuid);
                w.Write(r.InvoiceId, NpgsqlDbType.Uuid);
                w.Write(r.CustomerId, NpgsqlDbType.Uuid);
                w.WriteId(r.PaymentMethodId);
                w.Write(r.AttemptNumber, NpgsqlDbType.Integer);
                w.Write(r.IdempotencyKey, NpgsqlDbType.Text);
                w.Write(r.Currency, NpgsqlDbType.Char);
                w.Write(DemoDataGenerator.Gateway, NpgsqlDbType.Text);
                w.Write(Snake(r.Trigger), NpgsqlDbType.Text);
                w.Write(Snake(r.Status), NpgsqlDbType.Text);
                w.WriteText(r.DeclineCode);
                w.WriteText(r.FailureMessage);
                w.WriteText(r.GatewayReference);
                w.Write(r.StartedAt, NpgsqlDbType.TimestampTz);
                w.Write(r.CompletedAt, NpgsqlDbType.TimestampTz);
                w.Write(r.LatencyMs, NpgsqlDbType.Integer);
                w.Write(r.Amount, NpgsqlDbType.Numeric);
            });

    private static long DunningCases(NpgsqlConnection connection, IReadOnlyList<DunningCaseRow> rows) =>
        Copy(connection, "dunning_cases",
            "id, invoice_id, customer_id, subscription_id, currency, amount, status, policy_version, opened_at, updated_at, closed_at, retries_made, last_decline_code, next_attempt_at, next_attempt_probability, next_attempt_reason, escalation_step, final_action",
            rows, static (w, r) =>
            {
                w.Write(r.Id, NpgsqlDbType.Uuid);
                w.Write(r.InvoiceId, NpgsqlDbType.Uuid);
                w.Write(r.CustomerId, NpgsqlDbType.Uuid);
                w.WriteId(r.SubscriptionId);
                w.Write(r.Currency, NpgsqlDbType.Char);
                w.Write(r.Amount, NpgsqlDbType.Numeric);
                w.Write(Snake(r.Status), NpgsqlDbType.Text);
                w.Write(DemoWorld.PolicyVersion, NpgsqlDbType.Integer);
                w.Write(r.OpenedAt, NpgsqlDbType.TimestampTz);
                w.Write(r.UpdatedAt, NpgsqlDbType.TimestampTz);
                w.WriteTime(r.ClosedAt);
                w.Write(r.RetriesMade, NpgsqlDbType.Integer);
                w.WriteText(r.LastDeclineCode);
                w.WriteTime(r.NextAttemptAt);
                if (r.NextAttemptProbability is { } probability) w.Write(probability, NpgsqlDbType.Double);
                else w.WriteNull();
                w.WriteText(r.NextAttemptReason);
                w.Write(r.EscalationStep, NpgsqlDbType.Integer);
                w.WriteText(r.FinalAction);
            });

    private static long LedgerEntries(NpgsqlConnection connection, IReadOnlyList<LedgerEntry> rows) =>
        Copy(connection, "ledger_entries",
            "transaction_id, line_number, kind, account, customer_id, invoice_id, debit, credit, currency, occurred_at",
            rows, static (w, r) =>
            {
                w.Write(r.TransactionId, NpgsqlDbType.Uuid);
                w.Write(r.LineNumber, NpgsqlDbType.Integer);
                w.Write(Snake(r.Kind), NpgsqlDbType.Text);
                w.Write(Snake(r.Account), NpgsqlDbType.Text);
                w.Write(r.CustomerId, NpgsqlDbType.Uuid);
                w.WriteId(r.InvoiceId);
                w.Write(r.Debit, NpgsqlDbType.Numeric);
                w.Write(r.Credit, NpgsqlDbType.Numeric);
                w.Write(r.Currency, NpgsqlDbType.Char);
                w.Write(r.OccurredAt, NpgsqlDbType.TimestampTz);
            });

    public static long AuditEntries(NpgsqlConnection connection, IReadOnlyList<AuditEntry> rows) =>
        Copy(connection, "audit_log",
            "actor, actor_role, action, entity_type, entity_id, reason, before, after, occurred_at",
            rows, static (w, r) =>
            {
                w.Write(r.Actor, NpgsqlDbType.Text);
                w.WriteText(r.ActorRole);
                w.Write(r.Action, NpgsqlDbType.Text);
                w.Write(r.EntityType, NpgsqlDbType.Text);
                w.Write(r.EntityId, NpgsqlDbType.Text);
                w.Write(r.Reason, NpgsqlDbType.Text);
                if (r.Before is null) w.WriteNull(); else w.Write(r.Before, NpgsqlDbType.Jsonb);
                if (r.After is null) w.WriteNull(); else w.Write(r.After, NpgsqlDbType.Jsonb);
                w.Write(r.OccurredAt, NpgsqlDbType.TimestampTz);
            });

    private static string Snake<TEnum>(TEnum value) where TEnum : struct, Enum => SnakeCase<TEnum>.Names[value];

    private static class SnakeCase<TEnum> where TEnum : struct, Enum
    {
        public static readonly Dictionary<TEnum, string> Names = Enum.GetValues<TEnum>().ToDictionary(value => value, value => value.ToSnakeCase());
    }

    private static void WriteText(this NpgsqlBinaryImporter writer, string? value)
    {
        if (value is null) writer.WriteNull();
        else writer.Write(value, NpgsqlDbType.Text);
    }

    private static void WriteTime(this NpgsqlBinaryImporter writer, DateTime? value)
    {
        if (value is { } time) writer.Write(time, NpgsqlDbType.TimestampTz);
        else writer.WriteNull();
    }

    private static void WriteId(this NpgsqlBinaryImporter writer, Guid? value)
    {
        if (value is { } id) writer.Write(id, NpgsqlDbType.Uuid);
        else writer.WriteNull();
    }

    private static void WriteInt(this NpgsqlBinaryImporter writer, int? value)
    {
        if (value is { } number) writer.Write(number, NpgsqlDbType.Integer);
        else writer.WriteNull();
    }
}
