using System.Text.Json;
using BillingConsole.Engine.Changes;
using BillingConsole.Persistence;
using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>
/// Recomputes the dashboard figures from the billing tables and stores them as the current snapshot. The customers on a test
/// clock are left out of every figure, as the lists the figures link to leave them out by default.
/// </summary>
public sealed class DashboardRefresher(NpgsqlDataSource dataSource, ChangeFeed changes, TimeProvider clock)
{

    public async Task<DashboardFigures> RefreshAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        // The windows start at UTC midnight, as the lists' date filters do, so a figure's link lists what it counts.
        var day = new DashboardFigures { ComputedAt = now };
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var args = new
        {
            now, monthStart = ListText.StartOfDay(day.MonthStart), declinesFrom = ListText.StartOfDay(day.DeclinesFrom),
            since30 = now.AddDays(-30), since90 = now.AddDays(-90), trendFrom = day.MonthStart.AddMonths(-11).ToDateTime(TimeOnly.MinValue),
        };

        var mrrByCurrency = (await connection.QueryAsync<CurrencyAmount>(new CommandDefinition($"""
            select p.currency as Currency, round(sum({MrrRecorder.SubscriptionMrrAt("@now")}), 2) as Amount
            from subscriptions s join prices p on p.id = s.price_id
            where s.status in ('active', 'past_due') and {TestCustomers.Excluded("s.customer_id")}
            group by p.currency order by p.currency
            """, args, cancellationToken: ct))).ToList();

        var counts = await connection.QuerySingleAsync<(int Active, int Trialing, int PastDue, int New, int Voluntary, int Involuntary)>(new CommandDefinition($"""
            select count(*) filter (where status = 'active')::int,
                   count(*) filter (where status = 'trialing')::int,
                   count(*) filter (where status = 'past_due')::int,
                   count(*) filter (where created_at >= @monthStart)::int,
                   count(*) filter (where canceled_at >= @monthStart and cancellation_kind = 'voluntary')::int,
                   count(*) filter (where canceled_at >= @monthStart and cancellation_kind = 'involuntary')::int
            from subscriptions where {TestCustomers.Excluded("customer_id")}
            """, args, cancellationToken: ct));

        // Each month's point is its last recorded day (today for this month), summed over the plans of each currency.
        var trend = (await connection.QueryAsync<MrrPoint>(new CommandDefinition("""
            select date_trunc('month', day)::date as Month, currency as Currency, sum(mrr) as Mrr, sum(subscriptions)::int as ActiveSubscriptions
            from mrr_snapshots
            where day in (select max(day) from mrr_snapshots where day >= @trendFrom::date group by date_trunc('month', day))
            group by 1, 2 order by 1, 2
            """, args, cancellationToken: ct))).ToList();

        var byStatus = (await connection.QueryAsync<(string Status, string Currency, int Count, decimal Amount)>(new CommandDefinition($"""
            select status, currency, count(*)::int, sum(case when status = 'open' then amount_due else total end)
            from invoices where {TestCustomers.Excluded("customer_id")} group by status, currency order by status, currency
            """, args, cancellationToken: ct)))
            .GroupBy(r => r.Status)
            .Select(s => new StatusFigure(s.Key, s.Sum(r => r.Count), s.Select(r => new CurrencyAmount(r.Currency, r.Amount)).ToList()))
            .ToList();

        // Whole UTC days between the due date and today, the way the invoice list's dueFrom/dueTo read a day.
        var owed = await connection.QueryAsync<(string Currency, int DaysPastDue, int Count, decimal Amount)>(new CommandDefinition($"""
            select currency, (@now at time zone 'UTC')::date - (due_at at time zone 'UTC')::date, count(*)::int, sum(amount_due)
            from invoices where status = 'open' and due_at is not null and {TestCustomers.Excluded("customer_id")}
            group by 1, 2
            """, args, cancellationToken: ct));

        var dunning = await connection.QuerySingleAsync<(int Depth, DateTimeOffset? Oldest)>(new CommandDefinition($"""
            select count(*)::int, min(opened_at) from dunning_cases
            where status in ('retry_pending', 'retrying', 'awaiting_payment_method') and {TestCustomers.Excluded("customer_id")}
            """, cancellationToken: ct));

        var recovery = await connection.QuerySingleAsync<(int Recovered30, int Closed30, int Recovered90, int Closed90)>(new CommandDefinition($"""
            select count(*) filter (where status = 'recovered' and closed_at >= @since30)::int,
                   count(*) filter (where status in ('recovered', 'exhausted') and closed_at >= @since30)::int,
                   count(*) filter (where status = 'recovered')::int,
                   count(*) filter (where status in ('recovered', 'exhausted'))::int
            from dunning_cases where closed_at >= @since90 and {TestCustomers.Excluded("customer_id")}
            """, args, cancellationToken: ct));

        var recovered = (await connection.QueryAsync<CurrencyAmount>(new CommandDefinition($"""
            select currency as Currency, sum(amount) as Amount from dunning_cases
            where status = 'recovered' and closed_at >= @since90 and {TestCustomers.Excluded("customer_id")}
            group by currency order by currency
            """, args, cancellationToken: ct))).ToList();

        var writtenOff = (await connection.QueryAsync<CurrencyAmount>(new CommandDefinition($"""
            select currency as Currency, sum(amount_written_off) as Amount from invoices
            where status = 'uncollectible' and marked_uncollectible_at >= @since90 and {TestCustomers.Excluded("customer_id")}
            group by currency order by currency
            """, args, cancellationToken: ct))).ToList();

        var declines = (await connection.QueryAsync<(string DeclineCode, string Currency, int Count, decimal Amount)>(new CommandDefinition($"""
            select decline_code, currency, count(*)::int, sum(amount)
            from payment_attempts where status = 'failed' and started_at >= @declinesFrom and decline_code is not null and {TestCustomers.Excluded("customer_id")}
            group by decline_code, currency
            """, args, cancellationToken: ct)))
            .GroupBy(r => r.DeclineCode)
            .Select(d => new DeclineFigure(d.Key, d.Sum(r => r.Count), d.OrderBy(r => r.Currency, StringComparer.Ordinal)
                .Select(r => new CurrencyAmount(r.Currency, r.Amount)).ToList()))
            .OrderByDescending(d => d.Count).ThenBy(d => d.DeclineCode, StringComparer.Ordinal)
            .ToList();

        var figures = day with
        {
            MrrByCurrency = mrrByCurrency,
            MrrTrend = trend,
            ActiveSubscriptions = counts.Active,
            TrialingSubscriptions = counts.Trialing,
            PastDueSubscriptions = counts.PastDue,
            NewThisMonth = counts.New,
            ChurnedVoluntaryThisMonth = counts.Voluntary,
            ChurnedInvoluntaryThisMonth = counts.Involuntary,
            InvoicesByStatus = byStatus,
            ReceivablesAging = AgingBucket.Age(owed),
            DunningQueueDepth = dunning.Depth,
            OldestOpenCaseOpenedAt = dunning.Oldest,
            RecoveryRate30Days = recovery.Closed30 == 0 ? null : (double)recovery.Recovered30 / recovery.Closed30,
            RecoveryRate90Days = recovery.Closed90 == 0 ? null : (double)recovery.Recovered90 / recovery.Closed90,
            RecoveredLast90Days = recovered,
            WrittenOffLast90Days = writtenOff,
            FailedPaymentsByDeclineCode = declines,
        };

        await using var save = new NpgsqlCommand("""
            insert into dashboard_snapshots (id, computed_at, figures) values (1, @computedAt, @figures::jsonb)
            on conflict (id) do update set computed_at = excluded.computed_at, figures = excluded.figures
            """, connection);
        save.Parameters.AddWithValue("computedAt", now);
        save.Parameters.AddWithValue("figures", JsonSerializer.Serialize(figures, DashboardQueries.Json));
        await save.ExecuteNonQueryAsync(ct);
        changes.Publish([new EntityChange(ChangedEntity.DashboardFigures)]);
        return figures;
    }
}
