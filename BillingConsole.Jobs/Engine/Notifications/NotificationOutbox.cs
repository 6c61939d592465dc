using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Notifications;
using BillingConsole.Domain.Payments;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace BillingConsole.Engine.Notifications;

/// <summary>
/// Writes the notifications an event owes, in the unit of work or transaction that records the event, so that the event and
/// its email are committed together or not at all. The batch paths write theirs with one statement a batch; every statement
/// skips a (kind, event key) already written, so a path that runs twice never gives two emails.
/// </summary>
public static class NotificationOutbox
{
    /// <summary>
    /// The receipt or payment-failed notice of each of these attempts that succeeded or failed; keyed by the attempt. A
    /// decline that asks for the customer's authentication gets its own notice: the card is fine, the customer has to confirm.
    /// </summary>
    private const string ChargeOutcomeNotices = $"""
        insert into notifications (id, customer_id, kind, event_key, invoice_id, status, attempts, created_at, next_attempt_at)
        select v.id, a.customer_id,
               case when a.status = 'succeeded' then '{NotificationKinds.PaymentReceived}'
                    when a.decline_code = '{DeclineCodes.AuthenticationRequired}' then '{NotificationKinds.PaymentAuthenticationRequired}'
                    else '{NotificationKinds.PaymentFailed}' end,
               a.id::text, a.invoice_id, 'pending', 0, @at, @at
        from unnest(@events, @ids) as v(event_id, id)
        cross join lateral (select * from payment_attempts a where a.id = v.event_id and a.status in ('succeeded', 'failed') offset 0) a
        on conflict (kind, event_key) do nothing
        """;

    /// <summary>The invoice-issued notice of each of these invoices; keyed by the invoice.</summary>
    private const string InvoiceIssuedNotices = $"""
        insert into notifications (id, customer_id, kind, event_key, invoice_id, status, attempts, created_at, next_attempt_at)
        select v.id, i.customer_id, '{NotificationKinds.InvoiceIssued}', i.id::text, i.id, 'pending', 0, @at, @at
        from unnest(@events, @ids) as v(event_id, id)
        cross join lateral (select * from invoices i where i.id = v.event_id offset 0) i
        on conflict (kind, event_key) do nothing
        """;

    /// <summary>
    /// The expiry notice of every default card expiring in the given month, of the customers of the test clock in force (none:
    /// the customers without one); keyed by the card and that month.
    /// </summary>
    private const string CardExpiringNotices = $"""
        insert into notifications (id, customer_id, kind, event_key, status, attempts, created_at, next_attempt_at)
        select gen_random_uuid(), p.customer_id, '{NotificationKinds.CardExpiring}', p.id::text || ':' || @year || '-' || @month, 'pending', 0, @at, @at
        from payment_methods p
        where p.is_default and p.detached_at is null and p.exp_year = @year and p.exp_month = @month
          and exists (select 1 from customers c where c.id = p.customer_id and (c.test_clock_id = @clock or (@clock is null and c.test_clock_id is null)))
        on conflict (kind, event_key) do nothing
        """;

    /// <summary>The notice of an invoice just issued, added to the caller's unit of work.</summary>
    public static void InvoiceIssued(BillingDbContext db, Invoice invoice, DateTimeOffset at) =>
        db.Notifications.Add(new Notification(invoice.CustomerId, NotificationKinds.InvoiceIssued, invoice.Id.ToString(), invoice.Id, null, at));

    /// <summary>Batch path: the notices of invoices just written, in the transaction that wrote them.</summary>
    public static NpgsqlCommand InvoicesIssued(NpgsqlConnection connection, NpgsqlTransaction? transaction, IEnumerable<Guid> invoiceIds, DateTimeOffset at) =>
        Command(InvoiceIssuedNotices, connection, transaction, invoiceIds, at);

    /// <summary>Batch path: the receipts and payment-failed notices of recorded attempts, in the transaction that recorded them.</summary>
    public static NpgsqlCommand ChargeOutcomes(NpgsqlConnection connection, NpgsqlTransaction? transaction, IEnumerable<Guid> attemptIds, DateTimeOffset at) =>
        Command(ChargeOutcomeNotices, connection, transaction, attemptIds, at);

    /// <summary>Single path: the receipt or payment-failed notice of a recorded attempt, in the caller's transaction.</summary>
    public static Task ChargeOutcomeAsync(BillingDbContext db, Guid attemptId, DateTimeOffset at, CancellationToken ct) =>
        db.Database.ExecuteSqlRawAsync(ChargeOutcomeNotices, [.. EventsAndIds([attemptId]), At(at)], ct);

    /// <summary>The expiry notices of the default cards that expire at the end of <paramref name="year"/>-<paramref name="month"/>.</summary>
    public static Task<int> CardsExpiringAsync(BillingDbContext db, int year, int month, DateTimeOffset at, CancellationToken ct) =>
        db.Database.ExecuteSqlRawAsync(CardExpiringNotices,
            [At(at), new NpgsqlParameter("year", NpgsqlDbType.Integer) { Value = year }, new NpgsqlParameter("month", NpgsqlDbType.Integer) { Value = month },
             new NpgsqlParameter("clock", NpgsqlDbType.Uuid) { Value = (object?)EngineClock.TestClockId ?? DBNull.Value }], ct);

    private static NpgsqlCommand Command(string sql, NpgsqlConnection connection, NpgsqlTransaction? transaction, IEnumerable<Guid> eventIds,
        DateTimeOffset at)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddRange(EventsAndIds(eventIds));
        command.Parameters.Add(At(at));
        return command;
    }

    /// <summary>
    /// The events' ids, and a time-ordered id for the notice of each: new notices go in at the end of the primary key's
    /// index rather than on random pages of it. The statements read each event by its key (a lateral read kept apart by
    /// <c>offset 0</c>): while a run fills the tables their statistics still describe small ones, and a join was planned
    /// as a scan of all of them.
    /// </summary>
    private static NpgsqlParameter[] EventsAndIds(IEnumerable<Guid> eventIds)
    {
        var events = eventIds.ToArray();
        return
        [
            new("events", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = events },
            new("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = events.Select(_ => TimeOrderedIds.Next()).ToArray() },
        ];
    }

    private static NpgsqlParameter At(DateTimeOffset at) => new("at", NpgsqlDbType.TimestampTz) { Value = at };
}
