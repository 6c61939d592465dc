using Npgsql;

namespace BillingConsole.Persistence;

/// <summary>
/// Keeps MRR as the engine sees it (docs/analytics.md): compares every subscription's MRR now with the MRR it had when
/// last recorded, writes a movement for each difference, and stores today's snapshot per currency and plan. Set-based,
/// in one transaction under one lock, so a second recording (or a second node) finds nothing left to write. The first
/// recording on a database also derives the past from the subscriptions' own dates: a movement at each start and end,
/// and a snapshot for every day since the first. The customers on a test clock are left out: their MRR is a rehearsal's.
/// </summary>
public sealed class MrrRecorder(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// A subscription's MRR at the SQL expression <paramref name="at"/> (a parameter such as <c>@now</c>), reading <c>s</c>
    /// (subscriptions) and <c>p</c> (its price): active and past-due count, at the period charge less the discount that covers
    /// <paramref name="at"/> (<see cref="DiscountAt"/>), yearly prices a twelfth; trialing, paused, unpaid and canceled count nothing.
    /// </summary>
    public static string SubscriptionMrrAt(string at) =>
        $"case when s.status in ('active', 'past_due') then round(case when p.interval = 'year' then {DiscountedCharge(at)} / 12 else {DiscountedCharge(at)} end, 4) else 0 end";

    /// <summary>The period charge (price × quantity) less its discount, never below zero.</summary>
    private static string DiscountedCharge(string at) => $"greatest(p.amount * s.quantity - coalesce({DiscountAt(at)}, 0), 0)";

    /// <summary>
    /// What the discount in force at <paramref name="at"/> takes off the period charge: the subscription's own before its
    /// customer's, newest first, as <c>BillableSubscription.DiscountOn</c> chooses; null without one.
    /// </summary>
    private static string DiscountAt(string at) => $"""
        (select coalesce(p.amount * s.quantity * c.percent_off / 100, c.amount_off)
         from discounts d join coupons c on c.id = d.coupon_id
         where d.customer_id = s.customer_id and (d.subscription_id = s.id or d.subscription_id is null)
           and d.starts_at <= {at} and (d.ends_at is null or d.ends_at > {at})
         order by d.subscription_id nulls last, d.created_at desc, d.id desc limit 1)
        """;

    private const string NormalisedPrice =
        "round(case when p.interval = 'year' then p.amount * s.quantity / 12 else p.amount * s.quantity end, 4)";

    private const string ChurnKind =
        "case when s.status = 'unpaid' or s.cancellation_kind = 'involuntary' then 'churn_involuntary' else 'churn_voluntary' end";

    /// <summary>How a movement changes the number of subscriptions that count.</summary>
    private const string CountChange =
        "case when kind in ('new', 'reactivation') then 1 when kind in ('churn_voluntary', 'churn_involuntary') then -1 else 0 end";

    /// <summary>Records MRR as of <paramref name="now"/>; returns the number of movements written.</summary>
    public async Task<int> RecordAsync(DateTimeOffset now, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await ExecuteAsync(connection, "select pg_advisory_xact_lock(@key)", ct, ("key", AdvisoryLocks.MrrRecording));

        var written = 0;
        if (await IsFirstRecordingAsync(connection, ct)) written += await BackfillAsync(connection, now, today, ct);

        // Each subscription whose MRR or plan differs from its recorded state, read once.
        await ExecuteAsync(connection, $"""
            create temp table mrr_changes on commit drop as
            select s.id as subscription_id, s.customer_id, p.plan_id, p.currency, {SubscriptionMrrAt("@now")} as mrr,
                   coalesce(st.mrr, 0) as previous, coalesce(st.contributed, false) as contributed, {ChurnKind} as churn_kind
            from subscriptions s
            join prices p on p.id = s.price_id
            left join mrr_subscription_states st on st.subscription_id = s.id
            where ({SubscriptionMrrAt("@now")} <> coalesce(st.mrr, 0) or st.plan_id <> p.plan_id) and {TestCustomers.Excluded("s.customer_id")}
            """, ct, ("now", now));
        written += await ExecuteAsync(connection, """
            insert into mrr_movements (day, at, subscription_id, customer_id, currency, plan_id, kind, amount)
            select @today, @now, subscription_id, customer_id, currency, plan_id,
                   case when previous = 0 then case when contributed then 'reactivation' else 'new' end
                        when mrr = 0 then churn_kind
                        when mrr > previous then 'expansion'
                        else 'contraction' end,
                   mrr - previous
            from mrr_changes where mrr <> previous
            """, ct, ("today", today), ("now", now));
        await ExecuteAsync(connection, """
            insert into mrr_subscription_states (subscription_id, customer_id, currency, plan_id, mrr, contributed, updated_at)
            select subscription_id, customer_id, currency, plan_id, mrr, contributed or mrr > 0, @now from mrr_changes
            on conflict (subscription_id) do update set plan_id = excluded.plan_id, mrr = excluded.mrr,
                contributed = excluded.contributed, updated_at = excluded.updated_at
            """, ct, ("now", now));

        // Today's snapshot is replaced, never added to: it is the state of the latest recording.
        await ExecuteAsync(connection, """
            delete from mrr_snapshots where day = @today;
            insert into mrr_snapshots (day, currency, plan_id, mrr, subscriptions, computed_at)
            select @today, currency, plan_id, sum(mrr), count(*), @now
            from mrr_subscription_states where mrr <> 0
            group by currency, plan_id
            """, ct, ("today", today), ("now", now));
        await RecordCohortsAsync(connection, now, today, ct);
        await transaction.CommitAsync(ct);
        return written;
    }

    /// <summary>
    /// The cohort table, rewritten whole from the movements: each customer's MRR at the end of every month from their first
    /// month in the currency up to this one, counted per cohort and month, so the Analytics page reads a few hundred cells
    /// instead of every customer's movements (docs/analytics.md, "Cohorts").
    /// </summary>
    private static Task<int> RecordCohortsAsync(NpgsqlConnection connection, DateTimeOffset now, DateOnly today, CancellationToken ct) =>
        ExecuteAsync(connection, """
            delete from mrr_cohort_cells;
            insert into mrr_cohort_cells (currency, cohort, month, customers, retained, mrr, computed_at)
            with monthly as (
                select customer_id, currency, date_trunc('month', day)::date as month, sum(amount) as amount
                from mrr_movements group by customer_id, currency, date_trunc('month', day)),
            signups as (
                select customer_id, currency, min(month) as cohort from monthly group by customer_id, currency),
            running as (
                select s.currency, s.cohort, months.month::date as month,
                       sum(coalesce(m.amount, 0)) over (partition by s.customer_id, s.currency order by months.month) as mrr
                from signups s
                cross join lateral generate_series(s.cohort, date_trunc('month', @today::date), interval '1 month') as months(month)
                left join monthly m on m.customer_id = s.customer_id and m.currency = s.currency and m.month = months.month::date)
            select currency, cohort, month, count(*), count(*) filter (where mrr > 0), sum(mrr), @now
            from running group by currency, cohort, month
            """, ct, ("today", today), ("now", now));

    private static async Task<bool> IsFirstRecordingAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "select not exists (select 1 from mrr_subscription_states) and not exists (select 1 from mrr_movements)", connection);
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// The past as the subscriptions' columns tell it: each counted from its start (the trial's end, or its creation) until
    /// it was canceled, paused or marked unpaid, at its current price. Then a snapshot for every day before today, each the
    /// running sum of the movements so far, so past months reconcile with their movements too.
    /// </summary>
    private static async Task<int> BackfillAsync(NpgsqlConnection connection, DateTimeOffset now, DateOnly today, CancellationToken ct)
    {
        await ExecuteAsync(connection, $"""
            create temp table mrr_lives on commit drop as
            select * from (
                select s.id as subscription_id, s.customer_id, p.plan_id, p.currency, {NormalisedPrice} as mrr,
                       coalesce(s.trial_end, s.created_at) as started_at,
                       case s.status
                           when 'canceled' then s.canceled_at
                           when 'paused' then coalesce(s.paused_at, @now)
                           when 'unpaid' then coalesce((select max(d.closed_at) from dunning_cases d
                                                        where d.subscription_id = s.id and d.final_action = 'mark_unpaid'), @now)
                       end as ended_at,
                       {ChurnKind} as churn_kind
                from subscriptions s join prices p on p.id = s.price_id
                where s.status <> 'trialing' and {TestCustomers.Excluded("s.customer_id")}) lives
            where mrr > 0 and started_at <= @now and started_at < coalesce(ended_at, 'infinity')
            """, ct, ("now", now));
        var written = await ExecuteAsync(connection, """
            insert into mrr_movements (day, at, subscription_id, customer_id, currency, plan_id, kind, amount)
            select (started_at at time zone 'UTC')::date, started_at, subscription_id, customer_id, currency, plan_id, 'new', mrr
            from mrr_lives
            union all
            select (ended_at at time zone 'UTC')::date, ended_at, subscription_id, customer_id, currency, plan_id, churn_kind, -mrr
            from mrr_lives where ended_at is not null
            """, ct);
        await ExecuteAsync(connection, """
            insert into mrr_subscription_states (subscription_id, customer_id, currency, plan_id, mrr, contributed, updated_at)
            select subscription_id, customer_id, currency, plan_id, case when ended_at is null then mrr else 0 end, true, @now
            from mrr_lives
            """, ct, ("now", now));
        await ExecuteAsync(connection, $"""
            insert into mrr_snapshots (day, currency, plan_id, mrr, subscriptions, computed_at)
            select day, currency, plan_id, mrr, subscriptions, @now from (
                select days.day, keys.currency, keys.plan_id,
                       sum(coalesce(daily.amount, 0)) over running as mrr,
                       sum(coalesce(daily.subscriptions, 0)) over running as subscriptions
                from (select generate_series(min(day), @today - 1, interval '1 day')::date as day from mrr_movements) days
                cross join (select distinct currency, plan_id from mrr_movements) keys
                left join (select day, currency, plan_id, sum(amount) as amount, sum({CountChange}) as subscriptions
                           from mrr_movements group by day, currency, plan_id) daily
                       on daily.day = days.day and daily.currency = keys.currency and daily.plan_id = keys.plan_id
                window running as (partition by keys.currency, keys.plan_id order by days.day)) running_totals
            where subscriptions > 0
            """, ct, ("now", now), ("today", today));
        return written;
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct,
        params (string Name, object Value)[] parameters)
    {
        // A recording rereads every subscription and rewrites the cohort cells: on a million subscriptions under load that
        // takes longer than the default command timeout, and the job's cancellation bounds it instead.
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return await command.ExecuteNonQueryAsync(ct);
    }
}
