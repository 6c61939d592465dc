using BillingConsole.Domain.Common;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace BillingConsole.Engine.TestClocks;

/// <summary>What deleting a clock removed: its customers and every row hanging off them.</summary>
public sealed record TestClockDeleted(string Name, int Customers, int Rows);

/// <summary>
/// Deletes a test clock with its customers and everything the engine wrote for them (subscriptions, invoices and their lines,
/// charge attempts, ledger transactions, dunning cases and their steps, emails, outgoing events and their deliveries, credit
/// notes, refunds, disputes, discounts, MRR movements, the clock's billing runs), one statement per table in one transaction,
/// children before parents. The audit log keeps one entry, for the deletion; entries about the customers stay as written.
/// </summary>
public sealed class TestClockDeletion(BillingDbContext db, AuditTrail audit)
{
    /// <summary>
    /// Children first, so that no foreign key is ever left pointing at a deleted row. <c>@customers</c> holds the clock's
    /// customers; ledger transactions go whole (every line of a transaction that touches one of them), so the ledger stays
    /// balanced.
    /// </summary>
    private const string DeleteRowsOfCustomers = """
        delete from event_delivery_attempts where delivery_id in
            (select d.id from event_deliveries d join events e on e.id = d.event_id where e.customer_id = any(@customers));
        delete from event_deliveries where event_id in (select id from events where customer_id = any(@customers));
        delete from events where customer_id = any(@customers);
        delete from bulk_retry_items where invoice_id in (select id from invoices where customer_id = any(@customers));
        delete from credit_note_lines where credit_note_id in (select id from credit_notes where customer_id = any(@customers));
        delete from credit_notes where customer_id = any(@customers);
        delete from disputes where customer_id = any(@customers);
        delete from refunds where customer_id = any(@customers);
        delete from notifications where customer_id = any(@customers);
        delete from dunning_case_steps where case_id in (select id from dunning_cases where customer_id = any(@customers));
        delete from dunning_case_facts where case_id in (select id from dunning_cases where customer_id = any(@customers));
        delete from dunning_cases where customer_id = any(@customers);
        delete from ledger_entries where transaction_id in (select transaction_id from ledger_entries
            where customer_id = any(@customers) or invoice_id in (select id from invoices where customer_id = any(@customers)));
        delete from payment_attempts where customer_id = any(@customers);
        delete from pending_invoice_lines where customer_id = any(@customers);
        delete from discounts where customer_id = any(@customers);
        delete from mrr_movements where customer_id = any(@customers);
        delete from mrr_subscription_states where customer_id = any(@customers);
        delete from revenue_recognition_pending_lines where invoice_id in (select id from invoices where customer_id = any(@customers));
        delete from invoice_charge_claims where invoice_id in (select id from invoices where customer_id = any(@customers));
        delete from invoice_lines where invoice_id in (select id from invoices where customer_id = any(@customers));
        delete from invoices where customer_id = any(@customers);
        delete from billing_run_chunks where run_id in (select id from billing_runs where test_clock_id = @clock);
        delete from billing_runs where test_clock_id = @clock;
        delete from subscriptions where customer_id = any(@customers);
        delete from payment_methods where customer_id = any(@customers);
        delete from customer_notes where customer_id = any(@customers);
        delete from customers where id = any(@customers);
        delete from test_clocks where id = @clock;
        """;

    public async Task<TestClockDeleted> DeleteAsync(Guid clockId, Actor actor, string? reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // The clock's row locked first: an advance saving the clock's time waits, then finds it gone.
        var name = await db.Database.SqlQuery<string>($"select name as \"Value\" from test_clocks where id = {clockId} for update")
            .SingleOrDefaultAsync(ct) ?? throw new DomainRuleException("There is no such test clock.");
        var customers = await db.Database.SqlQuery<Guid>($"select id as \"Value\" from customers where test_clock_id = {clockId} for update")
            .ToArrayAsync(ct);
        var rows = await db.Database.ExecuteSqlRawAsync(DeleteRowsOfCustomers,
            [new NpgsqlParameter("customers", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = customers }, new NpgsqlParameter("clock", clockId)], ct);
        audit.Record(actor, "test_clock.deleted", "test_clock", clockId,
            $"{reason!.Trim()} (test clock '{name}' deleted with its {customers.Length} customers and {rows} rows)");
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return new TestClockDeleted(name, customers.Length, rows);
    }
}
