using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

public sealed record CustomerDetail(Guid Id, string Name, string Email, string Currency, decimal CreditBalance, DateTimeOffset CreatedAt,
    string? ExternalRef, string AddressLine1, string? AddressLine2, string AddressCity, string AddressPostalCode, string AddressCountry,
    bool DunningPaused, string CollectionMethod, int? DaysUntilDue, string? TimeZone, string? TaxId, Guid? TestClockId, string? TestClockName)
{
    public IReadOnlyList<PaymentMethodRow> PaymentMethods { get; init; } = [];
    public IReadOnlyList<SubscriptionRow> Subscriptions { get; init; } = [];
    public IReadOnlyList<InvoiceRow> RecentInvoices { get; init; } = [];
    public IReadOnlyList<PaymentAttemptRow> RecentPayments { get; init; } = [];
    public IReadOnlyList<LedgerBalanceRow> LedgerBalances { get; init; } = [];
    public IReadOnlyList<TimelineEntry> Timeline { get; init; } = [];
    public IReadOnlyList<CreditNoteRow> CreditNotes { get; init; } = [];
    public IReadOnlyList<DisputeRow> Disputes { get; init; } = [];
}

public sealed record PaymentMethodRow(Guid Id, string Gateway, string Brand, string Last4, int ExpMonth, int ExpYear, bool IsDefault,
    DateTimeOffset CreatedAt, DateTimeOffset? DetachedAt);

/// <summary>A customer's balance in one ledger account: debits minus credits.</summary>
public sealed record LedgerBalanceRow(string Account, string Currency, decimal Debits, decimal Credits)
{
    public decimal Balance => Debits - Credits;
}

/// <summary>One thing that happened to a customer: an audit entry (with its reason) or a note.</summary>
public sealed record TimelineEntry(DateTimeOffset OccurredAt, string Kind, string Actor, string Text, string? Reason);

public sealed class CustomerDetails(NpgsqlDataSource dataSource)
{
    public async Task<CustomerDetail?> FindAsync(Guid customerId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        using var results = await connection.QueryMultipleAsync(new CommandDefinition($$"""
            select id, name, email, currency, credit_balance, created_at, external_ref, address_line1, address_line2, address_city,
                   address_postal_code, address_country, dunning_paused, collection_method, days_until_due, time_zone, tax_id,
                   test_clock_id, (select k.name from test_clocks k where k.id = customers.test_clock_id) as test_clock_name
            from customers where id = @customerId;
            select id, gateway, brand, last4, exp_month, exp_year, is_default, created_at, detached_at
            from payment_methods where customer_id = @customerId order by created_at desc;
            select s.id, s.customer_id, c.name as customer_name, c.email as customer_email, pl.code as plan_code, pl.name as plan_name, s.status,
                   s.quantity, p.currency, p.amount as unit_amount, p.interval, s.current_period_end, s.created_at, s.canceled_at, s.cancel_at_period_end,
                   c.test_clock_id is not null as on_test_clock
            from subscriptions s join customers c on c.id = s.customer_id join prices p on p.id = s.price_id join plans pl on pl.id = p.plan_id
            where s.customer_id = @customerId order by s.created_at desc;
            select i.id, i.number, i.customer_id, c.name as customer_name, c.email as customer_email, i.status, i.kind, i.currency, i.total,
                   i.amount_due, i.created_at, i.due_at, i.paid_at, i.attempt_count, c.test_clock_id is not null as on_test_clock
            from invoices i join customers c on c.id = i.customer_id
            where i.customer_id = @customerId order by i.created_at desc limit 24;
            select id, invoice_id, attempt_number, status, trigger, amount, currency, decline_code, failure_message, gateway_reference,
                   started_at, completed_at, latency_ms
            from payment_attempts where customer_id = @customerId order by started_at desc limit 24;
            select account, currency, sum(debit) as debits, sum(credit) as credits
            from ledger_entries where customer_id = @customerId group by account, currency order by account;
            select occurred_at, 'audit' as kind, actor, action || ' ' || entity_type as text, reason
            from audit_log
            -- A note is shown once, as the note itself; its audit entry would repeat it.
            where action <> 'customer.note_added'
              and (entity_id = @customerIdText
                   or entity_id in (select id::text from subscriptions where customer_id = @customerId)
                   or entity_id in (select id::text from invoices where customer_id = @customerId))
            union all
            select created_at, 'note', author, body, null from customer_notes where customer_id = @customerId
            order by 1 desc limit 50;
            select {{CreditNoteDetails.RowColumns}}
            from credit_notes n join invoices i on i.id = n.invoice_id where n.customer_id = @customerId order by n.issued_at desc limit 20;
            {{DisputeList.Select}} where d.customer_id = @customerId order by d.created_at desc limit 20;
            """, new { customerId, customerIdText = customerId.ToString() }, cancellationToken: ct));
        var customer = await results.ReadSingleOrDefaultAsync<CustomerDetail>();
        if (customer is null) return null;
        return customer with
        {
            PaymentMethods = (await results.ReadAsync<PaymentMethodRow>()).ToList(),
            Subscriptions = (await results.ReadAsync<SubscriptionRow>()).ToList(),
            RecentInvoices = (await results.ReadAsync<InvoiceRow>()).ToList(),
            RecentPayments = (await results.ReadAsync<PaymentAttemptRow>()).ToList(),
            LedgerBalances = (await results.ReadAsync<LedgerBalanceRow>()).ToList(),
            Timeline = (await results.ReadAsync<TimelineEntry>()).ToList(),
            CreditNotes = (await results.ReadAsync<CreditNoteRow>()).ToList(),
            Disputes = (await results.ReadAsync<DisputeRow>()).ToList(),
        };
    }
}
