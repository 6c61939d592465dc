using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

public sealed record TestClockRow(Guid Id, string Name, DateTimeOffset FrozenTime, int Customers, string CreatedBy, DateTimeOffset CreatedAt);

public sealed record TestClockCustomerRow(Guid Id, string Name, string Email, string? SubscriptionStatus, DateTimeOffset? CurrentPeriodEnd);

/// <summary>
/// One thing that happened (or is scheduled) on a clock, at its clock time: <see cref="Kind"/> is invoice, attempt,
/// case, step, scheduled_retry or email; <see cref="Link"/> the console page it concerns.
/// </summary>
public sealed record TestClockEvent(DateTimeOffset At, string Kind, string CustomerName, string What, string? Status, string Link);

/// <summary>The test clocks page: the clocks, and one clock's customers and timeline.</summary>
public sealed class TestClockQueries(NpgsqlDataSource dataSource)
{
    /// <summary>The most events a timeline shows, newest last; a clock with more shows its latest ones.</summary>
    public const int TimelineLimit = 1000;

    public async Task<IReadOnlyList<TestClockRow>> ListAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return [.. await connection.QueryAsync<TestClockRow>(new CommandDefinition("""
            select k.id, k.name, k.frozen_time, (select count(*)::int from customers c where c.test_clock_id = k.id) as customers,
                   k.created_by, k.created_at
            from test_clocks k order by k.created_at desc
            """, cancellationToken: ct))];
    }

    public async Task<TestClockRow?> FindAsync(Guid clockId, CancellationToken ct) =>
        (await ListAsync(ct)).FirstOrDefault(c => c.Id == clockId);

    public async Task<IReadOnlyList<TestClockCustomerRow>> CustomersAsync(Guid clockId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return [.. await connection.QueryAsync<TestClockCustomerRow>(new CommandDefinition("""
            select c.id, c.name, c.email, s.status as subscription_status, s.current_period_end
            from customers c
            left join lateral (select status, current_period_end from subscriptions where customer_id = c.id order by created_at desc limit 1) s on true
            where c.test_clock_id = @clockId order by c.created_at, c.id
            """, new { clockId }, cancellationToken: ct))];
    }

    /// <summary>Invoices, charge attempts, dunning cases, ladder steps, scheduled retries and emails of the clock's customers, in time order.</summary>
    public async Task<IReadOnlyList<TestClockEvent>> TimelineAsync(Guid clockId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var events = await connection.QueryAsync<TestClockEvent>(new CommandDefinition("""
            with on_clock as (select id, name from customers where test_clock_id = @clockId)
            select at, kind, customer_name, what, status, link from (
                select i.issued_at as at, 'invoice' as kind, 1 as rank, c.name as customer_name,
                       'Invoice ' || coalesce(i.number, '') || ' issued for ' || i.total::numeric(19,2) || ' ' || i.currency as what,
                       i.status as status, '/invoices/' || i.id as link
                from invoices i join on_clock c on c.id = i.customer_id where i.issued_at is not null
                union all
                select a.started_at, 'attempt', 2, c.name,
                       'Charge ' || a.attempt_number || ' of ' || coalesce(i.number, '') || coalesce(' declined: ' || a.decline_code, ''),
                       a.status, '/invoices/' || i.id
                from payment_attempts a join invoices i on i.id = a.invoice_id join on_clock c on c.id = i.customer_id
                union all
                select d.opened_at, 'case', 3, c.name, 'Dunning case opened for ' || coalesce(i.number, ''), d.status, '/dunning/' || d.id
                from dunning_cases d join invoices i on i.id = d.invoice_id join on_clock c on c.id = d.customer_id
                union all
                select s.taken_at, 'step', 4, c.name, 'Ladder day ' || s.day || ': ' || replace(s.action, '_', ' '), null, '/dunning/' || d.id
                from dunning_case_steps s join dunning_cases d on d.id = s.case_id join on_clock c on c.id = d.customer_id
                union all
                select d.next_attempt_at, 'scheduled_retry', 5, c.name, 'Retry scheduled for ' || coalesce(i.number, ''), 'scheduled', '/dunning/' || d.id
                from dunning_cases d join invoices i on i.id = d.invoice_id join on_clock c on c.id = d.customer_id
                where d.status = 'retry_pending' and d.next_attempt_at is not null
                union all
                select coalesce(n.sent_at, n.created_at), 'email', 6, c.name, 'Email: ' || replace(n.kind, '_', ' '), n.status, '/customers/' || c.id
                from notifications n join on_clock c on c.id = n.customer_id
            ) timeline
            -- At one instant, in the order the engine works: the invoice, its charge, the case, the step, the next retry, the emails.
            order by at desc, rank desc
            limit @limit
            """, new { clockId, limit = TimelineLimit }, cancellationToken: ct));
        return [.. events.Reverse()];
    }
}
