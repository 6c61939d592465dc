using Npgsql;

namespace BillingConsole.Persistence;

/// <summary>
/// Folds the lines of the invoices issued or voided since the last fold (<c>revenue_recognition_pending_lines</c>, filled by
/// triggers on <c>invoices</c> and <c>invoice_lines</c>) into <c>revenue_recognition_sums</c>, so that the deferred-revenue figures of any period read a few
/// hundred rows instead of every invoice line (docs/analytics.md, "Deferred revenue").
/// </summary>
/// <remarks>
/// A line recognised evenly over [s, e) contributes, at an instant t after its invoice is issued, 0 before s,
/// m·t − m·s between (m = amount / (e − s) per second) and its amount after e: a piecewise linear function whose pieces
/// are written as (constant, slope) changes at s and e. Issuing at x adds the piece in force at x and the changes after
/// x; voiding at x subtracts the same, so a voided invoice counts nothing after its void. Each change is added to the
/// quarter hour it falls in, and to its UTC day; every day in every time zone starts on a quarter hour, so the sums before a
/// day's start are exact, and read the days before its UTC day and the quarter hours of that day before it.
/// The pending row is deleted in the transaction that folds it, so a reader sees each change once, folded or not.
/// </remarks>
public sealed class RevenueRecognitionRecorder(NpgsqlDataSource dataSource)
{
    /// <summary>The width of a quarter hour's sums, in seconds.</summary>
    public const int BucketSeconds = 900;

    /// <summary>The width of a day's sums, in seconds: whole UTC days, each 96 quarter hours.</summary>
    public const int DaySeconds = 86_400;

    private static readonly string FoldSql = $"""
        with taken as (
          delete from revenue_recognition_pending_lines p
          using (select line_id, kind from revenue_recognition_pending_lines order by line_id, kind limit @batch for update skip locked) t
          where p.line_id = t.line_id and p.kind = t.kind
          returning p.kind, p.changed_at, p.currency, p.amount, p.period_start, p.period_end),
        lines as (
          select currency, amount, case kind when 'issued' then 1 else -1 end as sign, extract(epoch from changed_at) as x,
                 extract(epoch from period_start) as s, extract(epoch from period_end) as e,
                 case when period_end > period_start
                      then amount::numeric(60, 40) / extract(epoch from period_end - period_start) end as m
          from taken),
        changes (currency, at, invoiced, constant, slope) as (
          select currency, x, sign * amount,
                 sign * case when m is null or x >= e then amount when x >= s then -m * s else 0 end,
                 sign * case when m is not null and x >= s and x < e then m else 0 end
          from lines
          union all
          select currency, s, 0, sign * -m * s, sign * m from lines where m is not null and s > x
          union all
          select currency, e, 0, sign * (m * s + amount), sign * -m from lines where m is not null and e > x),
        sums as (
          insert into revenue_recognition_sums as r (seconds, start, currency, invoiced, constant, slope)
          select w.seconds, floor(c.at / w.seconds)::bigint, c.currency, sum(c.invoiced), sum(c.constant), sum(c.slope)
          from changes c cross join (values ({BucketSeconds}), ({DaySeconds})) as w(seconds)
          group by 1, 2, 3 order by 1, 2, 3
          on conflict (seconds, start, currency) do update
            set invoiced = r.invoiced + excluded.invoiced, constant = r.constant + excluded.constant, slope = r.slope + excluded.slope)
        select count(*)::int from taken
        """;

    /// <summary>Folds every pending change in, a batch per transaction; returns the number of changes folded.</summary>
    /// <remarks>One fold at a time: two would add to the same sums in different orders and could deadlock.</remarks>
    public Task<int> FoldAsync(CancellationToken ct) => QueueFold.RunAsync(dataSource, FoldSql, AdvisoryLocks.RevenueRecognition, ct);
}
