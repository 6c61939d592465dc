using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

public sealed record SubscriptionDetail(Guid Id, Guid CustomerId, string CustomerName, string CustomerEmail, Guid PriceId, string PlanCode,
    string PlanName, string Status, int Quantity, string Currency, decimal UnitAmount, string Interval, DateTimeOffset CurrentPeriodStart,
    DateTimeOffset CurrentPeriodEnd, DateTimeOffset? TrialEnd, bool CancelAtPeriodEnd, DateTimeOffset? CanceledAt, DateTimeOffset? PausedAt,
    string? PendingPlanName, int? PendingQuantity, bool PlanChangesBlocked, DateTimeOffset CreatedAt)
{
    /// <summary>Prices the subscription could change to: active, in its currency, not the one it has.</summary>
    public IReadOnlyList<PriceOption> PriceOptions { get; init; } = [];
    public IReadOnlyList<InvoiceRow> RecentInvoices { get; init; } = [];
}

public sealed record PriceOption(Guid Id, string PlanName, decimal Amount, string Currency, string Interval);

/// <summary>One subscription with its plan, what it could change to and its latest invoices, read in one round trip.</summary>
public sealed class SubscriptionDetails(NpgsqlDataSource dataSource)
{
    public async Task<SubscriptionDetail?> FindAsync(Guid subscriptionId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        using var results = await connection.QueryMultipleAsync(new CommandDefinition("""
            select s.id, s.customer_id, c.name as customer_name, c.email as customer_email, s.price_id, pl.code as plan_code, pl.name as plan_name,
                   s.status, s.quantity, p.currency, p.amount as unit_amount, p.interval, s.current_period_start, s.current_period_end, s.trial_end,
                   s.cancel_at_period_end, s.canceled_at, s.paused_at, pending_plan.name as pending_plan_name, s.pending_quantity,
                   s.plan_changes_blocked, s.created_at
            from subscriptions s join customers c on c.id = s.customer_id join prices p on p.id = s.price_id join plans pl on pl.id = p.plan_id
                 left join prices pending on pending.id = s.pending_price_id left join plans pending_plan on pending_plan.id = pending.plan_id
            where s.id = @subscriptionId;
            select p.id, pl.name as plan_name, p.amount, p.currency, p.interval
            from prices p join plans pl on pl.id = p.plan_id
            where p.active and pl.active and p.id <> (select price_id from subscriptions where id = @subscriptionId)
              and p.currency = (select c.currency from subscriptions s join customers c on c.id = s.customer_id where s.id = @subscriptionId)
            order by p.interval, p.amount, pl.name;
            select i.id, i.number, i.customer_id, c.name as customer_name, c.email as customer_email, i.status, i.kind, i.currency, i.total,
                   i.amount_due, i.created_at, i.due_at, i.paid_at, i.attempt_count, c.test_clock_id is not null as on_test_clock
            from invoices i join customers c on c.id = i.customer_id
            where i.subscription_id = @subscriptionId order by i.created_at desc limit 12;
            """, new { subscriptionId }, cancellationToken: ct));
        var subscription = await results.ReadSingleOrDefaultAsync<SubscriptionDetail>();
        if (subscription is null) return null;
        return subscription with
        {
            PriceOptions = (await results.ReadAsync<PriceOption>()).ToList(),
            RecentInvoices = (await results.ReadAsync<InvoiceRow>()).ToList(),
        };
    }
}
