using Npgsql;

namespace BillingConsole.Persistence;

/// <summary>
/// What the recovery analytics need of each dunning case, one narrow row per case (<c>dunning_case_facts</c>), so that a
/// month's report reads that month's rows instead of joining every case to its payment attempts (docs/analytics.md,
/// "Dunning recovery"). A trigger on <c>dunning_cases</c> queues every case inserted, updated or deleted
/// (<c>dunning_case_facts_pending</c>, a row per change, so a change made while a fold runs stays queued for the next);
/// every retry's outcome updates its case, so the queue sees retries too. <see cref="FoldAsync"/> recomputes the queued
/// cases' facts and takes their rows off the queue in one transaction, and <see cref="CohortSql"/> reads the facts with the
/// queued cases computed afresh, so the figures are live whether or not the fold has run.
/// </summary>
public sealed class DunningCaseFactsRecorder(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// The facts of the cases <c>d</c> that <paramref name="where"/> selects: the decline that opened the case (the last
    /// failure recorded by the time it opened; the case itself keeps only the latest), the dunning retries made within it
    /// that ended (succeeded or failed), and the number of the retry that succeeded.
    /// </summary>
    private static string FactsOf(string where) => $"""
        select d.id as case_id, d.opened_at, d.status, d.currency, d.amount,
               extract(epoch from d.closed_at - d.opened_at)::float8 / 86400 as days_to_close,
               coalesce(opening.decline_code, d.last_decline_code, 'unknown') as opening_decline_code,
               retries.made as retries, retries.succeeded_at as succeeded_retry
        from dunning_cases d
        left join lateral (
          select a.decline_code from payment_attempts a
          where a.invoice_id = d.invoice_id and a.status = 'failed' and a.started_at <= d.opened_at
          order by a.attempt_number desc limit 1) opening on true
        cross join lateral (
          select count(*)::int as made, (min(number) filter (where status = 'succeeded'))::int as succeeded_at
          from (select a.status, row_number() over (order by a.attempt_number) as number
                from payment_attempts a
                where a.invoice_id = d.invoice_id and a.trigger = 'dunning_retry' and a.status in ('succeeded', 'failed')
                  and a.started_at >= d.opened_at and (d.closed_at is null or a.started_at <= d.closed_at)) numbered) retries
        where {where}
        """;

    /// <summary>
    /// The facts of the cases opened in [@From, @To), as a query to put in a <c>with</c>: folded rows for the cases not
    /// queued, computed ones for the queued.
    /// </summary>
    public static readonly string CohortSql = $"""
        select f.case_id, f.opened_at, f.status, f.currency, f.amount, f.days_to_close, f.opening_decline_code, f.retries, f.succeeded_retry
        from dunning_case_facts f
        where f.opened_at >= @From and f.opened_at < @To
          and not exists (select 1 from dunning_case_facts_pending p where p.case_id = f.case_id)
        union all
        {FactsOf("d.id in (select case_id from dunning_case_facts_pending) and d.opened_at >= @From and d.opened_at < @To")}
        """;

    private static readonly string FoldSql = $"""
        with taken as (
          delete from dunning_case_facts_pending p
          using (select id from dunning_case_facts_pending order by id limit @batch for update skip locked) t
          where p.id = t.id
          returning p.case_id),
        gone as (
          delete from dunning_case_facts f
          where f.case_id in (select case_id from taken) and not exists (select 1 from dunning_cases d where d.id = f.case_id)),
        fresh as (
          insert into dunning_case_facts (case_id, opened_at, status, currency, amount, days_to_close, opening_decline_code, retries, succeeded_retry)
          {FactsOf("d.id in (select case_id from taken)")}
          on conflict (case_id) do update set status = excluded.status, days_to_close = excluded.days_to_close,
            opening_decline_code = excluded.opening_decline_code, retries = excluded.retries, succeeded_retry = excluded.succeeded_retry)
        select count(*)::int from taken
        """;

    /// <summary>Recomputes the facts of every queued case, a batch per transaction; returns the queued changes taken.</summary>
    public Task<int> FoldAsync(CancellationToken ct) => QueueFold.RunAsync(dataSource, FoldSql, AdvisoryLocks.DunningCaseFacts, ct);
}
