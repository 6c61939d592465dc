using Npgsql;

namespace BillingConsole.Persistence;

/// <summary>
/// Folds the invoices issued or voided since the last fold (<c>revenue_recognition_pending</c>, filled by triggers on
/// <c>invoices</c>) into <c>revenue_recognition_buckets</c>, so that the deferred-revenue figures of any period read a few
/// thousand rows instead of every invoice line (docs/analytics.md, "Deferred revenue").
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
    /// <summary>The width of a bucket, in seconds.</summary>
    public const int BucketSeconds = 900;

    /// <summary>The width of a day's row, in seconds: whole UTC days, each 96 buckets.</summary>
    public const int DaySeconds = 86_400;

    private const int BatchSize = 50_000;

    private static readonly string FoldSql = $"""
        with taken as (
          delete from revenue_recognition_pending p
          using (select invoice_id, kind from revenue_recognition_pending order by invoice_id, kind limit @batch for update skip locked) t
          where p.invoice_id = t.invoice_id and p.kind = t.kind
          returning p.invoice_id, p.kind),
        lines as (
          select l.currency, l.amount, case t.kind when 'issued' then 1 else -1 end as sign,
                 extract(epoch from case t.kind when 'issued' then i.issued_at else i.voided_at end) as x,
                 extract(epoch from l.period_start) as s, extract(epoch from l.period_end) as e,
                 case when l.period_end > l.period_start
                      then l.amount::numeric(60, 40) / extract(epoch from l.period_end - l.period_start) end as m
          from taken t join invoices i on i.id = t.invoice_id join invoice_lines l on l.invoice_id = i.id
          where case t.kind when 'issued' then i.issued_at else i.voided_at end is not null),
        changes (currency, at, invoiced, constant, slope) as (
          select currency, x, sign * amount,
                 sign * case when m is null or x >= e then amount when x >= s then -m * s else 0 end,
                 sign * case when m is not null and x >= s and x < e then m else 0 end
          from lines
          union all
          select currency, s, 0, sign * -m * s, sign * m from lines where m is not null and s > x
          union all
          select currency, e, 0, sign * (m * s + amount), sign * -m from lines where m is not null and e > x),
        buckets as (
          insert into revenue_recognition_buckets as b (currency, bucket, invoiced, constant, slope)
          select currency, floor(at / {BucketSeconds})::bigint, sum(invoiced), sum(constant), sum(slope)
          from changes group by 1, 2 order by 1, 2
          on conflict (bucket, currency) do update
            set invoiced = b.invoiced + excluded.invoiced, constant = b.constant + excluded.constant, slope = b.slope + excluded.slope),
        days as (
          insert into revenue_recognition_days as d (currency, day, invoiced, constant, slope)
          select currency, floor(at / {DaySeconds})::bigint, sum(invoiced), sum(constant), sum(slope)
          from changes group by 1, 2 order by 1, 2
          on conflict (day, currency) do update
            set invoiced = d.invoiced + excluded.invoiced, constant = d.constant + excluded.constant, slope = d.slope + excluded.slope)
        select count(*)::int from taken
        """;

    /// <summary>Folds every pending change in, a batch per transaction; returns the number of changes folded.</summary>
    public async Task<int> FoldAsync(CancellationToken ct)
    {
        var folded = 0;
        while (true)
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            // One fold at a time: two would add to the same buckets in different orders and could deadlock.
            await using (var lockCommand = new NpgsqlCommand("select pg_advisory_xact_lock(@key)", connection, transaction))
            {
                lockCommand.Parameters.AddWithValue("key", AdvisoryLocks.RevenueRecognition);
                await lockCommand.ExecuteNonQueryAsync(ct);
            }
            await using var fold = new NpgsqlCommand(FoldSql, connection, transaction) { CommandTimeout = 0 };
            fold.Parameters.AddWithValue("batch", BatchSize);
            var taken = (int)(await fold.ExecuteScalarAsync(ct))!;
            await transaction.CommitAsync(ct);
            folded += taken;
            if (taken < BatchSize) return folded;
        }
    }
}
