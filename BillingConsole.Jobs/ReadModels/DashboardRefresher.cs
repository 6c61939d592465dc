using System.Text.Json;
using BillingConsole.Engine.Changes;
using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>Recomputes the dashboard figures from the billing tables and stores them as the current snapshot.</summary>
public sealed class DashboardRefresher(NpgsqlDataSource dataSource, ChangeFeed changes, TimeProvider clock)
{
    public const string ReportingCurrency = "USD";

    public async Task<DashboardFigures> RefreshAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var args = new { now, monthStart, currency = ReportingCurrency, since30 = now.AddDays(-30), since90 = now.AddDays(-90) };

        var mrrByCurrency = (await connection.QueryAsync<CurrencyAmount>(new CommandDefinition("""
            select p.currency as Currency,
                   round(sum(case when p.interval = 'year' then p.amount / 12 else p.amount end * s.quantity), 2) as Amount
            from subscriptions s join prices p on p.id = s.price_id
            where s.status in ('active', 'past_due')
            group by p.currency order by p.currency
            """, cancellationToken: ct))).ToList();

        var counts = await connection.QuerySingleAsync<(int Active, int Trialing, int PastDue, int New, int Voluntary, int Involuntary)>(new CommandDefinition("""
            select count(*) filter (where status = 'active')::int,
                   count(*) filter (where status = 'trialing')::int,
                   count(*) filter (where status = 'past_due')::int,
                   count(*) filter (where created_at >= @monthStart)::int,
                   count(*) filter (where canceled_at >= @monthStart and cancellation_kind = 'voluntary')::int,
                   count(*) filter (where canceled_at >= @monthStart and cancellation_kind = 'involuntary')::int
            from subscriptions
            """, args, cancellationToken: ct));

        var trend = (await connection.QueryAsync<MrrPoint>(new CommandDefinition("""
            select month as Month, mrr as Mrr, active_subscriptions as ActiveSubscriptions
            from mrr_snapshots where currency = @currency and month > (@now::date - interval '12 months')
            order by month
            """, args, cancellationToken: ct))).ToList();

        var byStatus = (await connection.QueryAsync<StatusFigure>(new CommandDefinition("""
            select status as Status, count(*)::int as Count,
                   coalesce(sum(case when status = 'open' then amount_due when status = 'uncollectible' then amount_written_off else total end)
                            filter (where currency = @currency), 0) as Amount
            from invoices group by status order by status
            """, args, cancellationToken: ct))).ToList();

        var aging = (await connection.QueryAsync<(int Bucket, int Count, decimal Amount)>(new CommandDefinition("""
            select case when age <= 30 then 0 when age <= 60 then 1 when age <= 90 then 2 else 3 end as bucket,
                   count(*)::int, coalesce(sum(amount_due), 0)
            from (select extract(day from @now - coalesce(due_at, issued_at, created_at))::int as age, amount_due
                  from invoices where status = 'open' and currency = @currency) open_invoices
            group by 1
            """, args, cancellationToken: ct))).ToDictionary(r => r.Bucket);

        var dunning = await connection.QuerySingleAsync<(int Depth, DateTimeOffset? Oldest)>(new CommandDefinition("""
            select count(*)::int, min(opened_at) from dunning_cases
            where status in ('retry_pending', 'retrying', 'awaiting_payment_method')
            """, cancellationToken: ct));

        var recovery = await connection.QuerySingleAsync<(int Recovered30, int Closed30, int Recovered90, int Closed90, decimal RecoveredAmount90)>(new CommandDefinition("""
            select count(*) filter (where status = 'recovered' and closed_at >= @since30)::int,
                   count(*) filter (where status in ('recovered', 'exhausted') and closed_at >= @since30)::int,
                   count(*) filter (where status = 'recovered')::int,
                   count(*) filter (where status in ('recovered', 'exhausted'))::int,
                   coalesce(sum(amount) filter (where status = 'recovered' and currency = @currency), 0)
            from dunning_cases where closed_at >= @since90
            """, args, cancellationToken: ct));

        var writtenOff = await connection.QuerySingleAsync<decimal>(new CommandDefinition("""
            select coalesce(sum(amount_written_off), 0) from invoices
            where status = 'uncollectible' and currency = @currency and marked_uncollectible_at >= @since90
            """, args, cancellationToken: ct));

        var declines = (await connection.QueryAsync<DeclineFigure>(new CommandDefinition("""
            select decline_code as DeclineCode, count(*)::int as Count, coalesce(sum(amount) filter (where currency = @currency), 0) as Amount
            from payment_attempts where status = 'failed' and started_at >= @since30 and decline_code is not null
            group by decline_code order by count(*) desc
            """, args, cancellationToken: ct))).ToList();

        var figures = new DashboardFigures
        {
            ComputedAt = now,
            ReportingCurrency = ReportingCurrency,
            MrrByCurrency = mrrByCurrency,
            Mrr = mrrByCurrency.FirstOrDefault(m => m.Currency == ReportingCurrency)?.Amount ?? 0m,
            MrrTrend = trend,
            ActiveSubscriptions = counts.Active,
            TrialingSubscriptions = counts.Trialing,
            PastDueSubscriptions = counts.PastDue,
            NewThisMonth = counts.New,
            ChurnedVoluntaryThisMonth = counts.Voluntary,
            ChurnedInvoluntaryThisMonth = counts.Involuntary,
            InvoicesByStatus = byStatus,
            ReceivablesAging = AgingBuckets.Select((b, i) => b with
            {
                Count = aging.TryGetValue(i, out var row) ? row.Count : 0,
                Amount = aging.TryGetValue(i, out var amountRow) ? amountRow.Amount : 0m,
            }).ToList(),
            DunningQueueDepth = dunning.Depth,
            OldestOpenCaseOpenedAt = dunning.Oldest,
            RecoveryRate30Days = recovery.Closed30 == 0 ? null : (double)recovery.Recovered30 / recovery.Closed30,
            RecoveryRate90Days = recovery.Closed90 == 0 ? null : (double)recovery.Recovered90 / recovery.Closed90,
            RecoveredLast90Days = recovery.RecoveredAmount90,
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

    public static readonly IReadOnlyList<AgingBucket> AgingBuckets =
    [
        new("0–30 days", 0, 30, 0, 0m),
        new("31–60 days", 31, 60, 0, 0m),
        new("61–90 days", 61, 90, 0, 0m),
        new("90+ days", 91, null, 0, 0m),
    ];
}
