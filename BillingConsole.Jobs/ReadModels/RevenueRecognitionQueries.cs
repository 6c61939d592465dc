using BillingConsole.Engine.Accounting;
using BillingConsole.Persistence;
using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>
/// A period's revenue recognition in one currency: the revenue deferred at its start, the revenue invoiced in it (net of
/// voids), the revenue recognised in it, and what stays deferred at its end. Opening + invoiced − recognised = closing.
/// </summary>
public sealed record RevenueRecognitionLine(string Currency, decimal DeferredOpening, decimal Invoiced, decimal Recognized, decimal DeferredClosing);

/// <summary>Deferred and recognised revenue of a period, and an invoice's recognition schedule (docs/analytics.md, "Deferred revenue").</summary>
public sealed class RevenueRecognitionQueries(NpgsqlDataSource dataSource, JournalQueries journal)
{
    /// <summary>
    /// Per currency and instant (each the start of a quarter hour): the revenue of the invoices issued and not voided before
    /// it, and the part recognised by it, summed exactly and rounded to the cent as <see cref="RevenueRecognition.ToCent"/>
    /// does. The folded invoices are read from their sums (<see cref="RevenueRecognitionRecorder"/>): the whole UTC days
    /// before the instant's day, then that day's quarter hours before it; the changes not folded yet are computed from their
    /// queued lines (each with its amount, period and the instant of the change), with the same share as
    /// <see cref="RevenueRecognition.RecognizedBy"/> before its rounding. Those lines are read once for all the instants and
    /// summed per period before the share is applied (the same sum exactly: the share multiplies each amount exactly), since
    /// right after a billing run tens of thousands of them wait for the fold and share a few periods.
    /// </summary>
    private static readonly string AsOfSql = $"""
        with instants as (select t, extract(epoch from t) as seconds from unnest(@instants) as at(t)),
        folded as (
          select at.t, b.currency, sum(b.invoiced) as invoiced, sum(b.constant) + sum(b.slope) * at.seconds as recognized
          from instants at
          cross join lateral (
            select currency, invoiced, constant, slope from revenue_recognition_sums
            where seconds = {RevenueRecognitionRecorder.DaySeconds} and start < floor(at.seconds / {RevenueRecognitionRecorder.DaySeconds})
            union all
            select currency, invoiced, constant, slope from revenue_recognition_sums
            where seconds = {RevenueRecognitionRecorder.BucketSeconds}
              and start >= floor(at.seconds / {RevenueRecognitionRecorder.DaySeconds}) * {RevenueRecognitionRecorder.DaySeconds / RevenueRecognitionRecorder.BucketSeconds}
              and start < at.seconds / {RevenueRecognitionRecorder.BucketSeconds}) b
          group by at.t, at.seconds, b.currency),
        pending_lines as materialized (
          select changed_at, case kind when 'issued' then 1 else -1 end * amount as amount, currency, period_start, period_end
          from revenue_recognition_pending_lines),
        pending as (
          select at.t, g.currency, sum(g.amount) as invoiced,
                 sum(g.amount * case when g.period_end <= g.period_start or at.t >= g.period_end then 1 when at.t <= g.period_start then 0
                     else extract(epoch from (at.t - g.period_start))::numeric(60, 40) / extract(epoch from (g.period_end - g.period_start)) end) as recognized
          from instants at
          cross join lateral (
            select currency, period_start, period_end, sum(amount) as amount from pending_lines
            where changed_at < at.t
            group by currency, period_start, period_end) g
          group by at.t, g.currency)
        select t, currency, sum(invoiced) as invoiced, round(round(sum(recognized), {RevenueRecognition.ArithmeticPlaces}), 2) as recognized
        from (select * from folded union all select * from pending) as parts
        group by t, currency
        """;

    public async Task<IReadOnlyList<RevenueRecognitionLine>> PeriodAsync(JournalPeriod period, CancellationToken ct)
    {
        var (start, end) = period.Instants(journal.Zone);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = (await connection.QueryAsync<(DateTime At, string Currency, decimal Invoiced, decimal Recognized)>(new CommandDefinition(AsOfSql,
            new { instants = new[] { start.UtcDateTime, end.UtcDateTime } }, cancellationToken: ct))).ToList();
        (decimal Invoiced, decimal Recognized) At(string currency, DateTimeOffset instant) =>
            rows.Where(r => r.Currency == currency && r.At == instant.UtcDateTime).Select(r => (r.Invoiced, r.Recognized)).SingleOrDefault();
        return rows.Select(r => r.Currency).Distinct().Order(StringComparer.Ordinal).Select(currency =>
        {
            var (invoicedBefore, recognizedBefore) = At(currency, start);
            var (invoicedBy, recognizedBy) = At(currency, end);
            return new RevenueRecognitionLine(currency, invoicedBefore - recognizedBefore, invoicedBy - invoicedBefore, recognizedBy - recognizedBefore,
                invoicedBy - recognizedBy);
        }).ToList();
    }

    /// <summary>The months in which an issued invoice's revenue is recognised; empty for a draft or a voided invoice.</summary>
    public async Task<IReadOnlyList<RecognitionMonth>> ScheduleAsync(Guid invoiceId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var issuedAt = await connection.QuerySingleOrDefaultAsync<DateTime?>(new CommandDefinition(
            "select issued_at from invoices where id = @invoiceId and voided_at is null", new { invoiceId }, cancellationToken: ct));
        if (issuedAt is not { } issued) return [];
        var lines = (await connection.QueryAsync<(decimal Amount, DateTime Start, DateTime End)>(new CommandDefinition(
                "select amount, period_start, period_end from invoice_lines where invoice_id = @invoiceId", new { invoiceId }, cancellationToken: ct)))
            .Select(l => new RecognizedLine(l.Amount, Utc(l.Start), Utc(l.End))).ToList();
        return RevenueRecognition.Schedule(lines, Utc(issued), journal.Zone);
    }

    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));
}
