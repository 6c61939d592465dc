using System.Globalization;
using System.Runtime.CompilerServices;
using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Ledger;
using BillingConsole.Engine.Accounting;
using BillingConsole.Persistence;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>
/// A period of the books: whole days from <see cref="From"/> to <see cref="To"/>, both included, in the billing time zone
/// (the zone invoices are dated in), so that a month's journal is the month finance closes.
/// </summary>
public sealed record JournalPeriod(DateOnly From, DateOnly To)
{
    public const string DateFormat = "yyyy-MM-dd";

    /// <summary>The period the query string names, or the sentence that says what is wrong with it.</summary>
    public static (JournalPeriod? Period, string? Error) Parse(string? from, string? to)
    {
        if (!TryParseDate(from, out var first)) return (null, "from must be a date written yyyy-MM-dd, e.g. 2027-04-01.");
        if (!TryParseDate(to, out var last)) return (null, "to must be a date written yyyy-MM-dd, e.g. 2027-04-30.");
        if (last < first) return (null, "to is before from: the period ends on or after the day it starts.");
        return (new JournalPeriod(first, last), null);
    }

    /// <summary>The month before the one <paramref name="today"/> is in: the period a month-end close exports.</summary>
    public static JournalPeriod MonthBefore(DateOnly today)
    {
        var first = new DateOnly(today.Year, today.Month, 1).AddMonths(-1);
        return new JournalPeriod(first, first.AddMonths(1).AddDays(-1));
    }

    public string FromText => Text(From);
    public string ToText => Text(To);

    public static string Text(DateOnly day) => day.ToString(DateFormat, CultureInfo.InvariantCulture);

    /// <summary>The instants the period covers: from the start of its first day to the start of the day after its last.</summary>
    public (DateTimeOffset Start, DateTimeOffset End) Instants(TimeZoneInfo zone) =>
        (RevenueRecognition.StartOf(From, zone), RevenueRecognition.StartOf(To.AddDays(1), zone));

    private static bool TryParseDate(string? text, out DateOnly day) =>
        DateOnly.TryParseExact(text?.Trim(), DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out day);
}

/// <summary>
/// One account in one currency over a period: its balance before the period (debits minus credits), what the period posted
/// to each side, and its balance at the end.
/// </summary>
public sealed record TrialBalanceLine(string Currency, LedgerAccount Account, string Code, decimal Opening, decimal Debits, decimal Credits)
{
    public decimal Closing => Opening + Debits - Credits;
    public string Name => AccountCodes.NameOf(Account);
}

/// <summary>One line of a journal entry as the export writes it (docs/analytics.md, "Journal export").</summary>
public sealed record JournalLine(DateOnly Date, DateTimeOffset OccurredAt, Guid Entry, int Line, string Kind, string AccountCode, LedgerAccount Account,
    decimal Debit, decimal Credit, string Currency, Guid CustomerId, Guid? InvoiceId, string? InvoiceNumber);

/// <summary>
/// The ledger handed to accounting: each ledger transaction of a period as a journal entry on the business's account codes,
/// and the trial balance the entries sum to. Both read <c>ledger_entries</c> only, so they agree with it by construction;
/// both leave out the entries of the customers on a test clock, as the deferred-revenue figures do.
/// </summary>
public sealed class JournalQueries(NpgsqlDataSource dataSource, IOptionsMonitor<BillingOptions> billing)
{
    public TimeZoneInfo Zone => BillingEngineExtensions.TryFindTimeZone(billing.CurrentValue.TimeZone) ?? TimeZoneInfo.Utc;

    public async Task<IReadOnlyList<TrialBalanceLine>> TrialBalanceAsync(JournalPeriod period, CancellationToken ct)
    {
        var (start, end) = period.Instants(Zone);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var codes = await CodesAsync(connection, ct);
        var rows = await connection.QueryAsync<(string Currency, string Account, decimal Opening, decimal Debits, decimal Credits)>(new CommandDefinition($"""
            select currency, account,
                   coalesce(sum(debit - credit) filter (where occurred_at < @start), 0),
                   coalesce(sum(debit) filter (where occurred_at >= @start), 0),
                   coalesce(sum(credit) filter (where occurred_at >= @start), 0)
            from ledger_entries where occurred_at < @end and {TestCustomers.Excluded("customer_id")}
            group by currency, account
            """, new { start, end }, cancellationToken: ct));
        return rows.Select(r => new TrialBalanceLine(r.Currency, AccountOf(r.Account), codes.CodeOf(AccountOf(r.Account)), r.Opening, r.Debits, r.Credits))
            .OrderBy(l => l.Currency, StringComparer.Ordinal).ThenBy(l => l.Code, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every ledger line of the period in posting order, streamed: a month at a million subscriptions is never held whole.</summary>
    public async IAsyncEnumerable<JournalLine> StreamAsync(JournalPeriod period, [EnumeratorCancellation] CancellationToken ct)
    {
        var zone = Zone;
        var (start, end) = period.Instants(zone);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var codes = await CodesAsync(connection, ct);
        var rows = connection.QueryUnbufferedAsync<(DateTime OccurredAt, Guid Entry, int Line, string Kind, string Account, decimal Debit, decimal Credit,
            string Currency, Guid CustomerId, Guid? InvoiceId, string? InvoiceNumber)>($"""
            select e.occurred_at, e.transaction_id, e.line_number, e.kind, e.account, e.debit, e.credit, e.currency, e.customer_id, e.invoice_id, i.number
            from ledger_entries e left join invoices i on i.id = e.invoice_id
            where e.occurred_at >= @start and e.occurred_at < @end and {TestCustomers.Excluded("e.customer_id")}
            order by e.occurred_at, e.transaction_id, e.line_number
            """, new { start, end });
        await foreach (var row in rows.WithCancellation(ct))
        {
            var occurredAt = new DateTimeOffset(DateTime.SpecifyKind(row.OccurredAt, DateTimeKind.Utc));
            var account = AccountOf(row.Account);
            yield return new JournalLine(DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(occurredAt, zone).DateTime), occurredAt, row.Entry, row.Line,
                row.Kind, codes.CodeOf(account), account, row.Debit, row.Credit, row.Currency, row.CustomerId, row.InvoiceId, row.InvoiceNumber);
        }
    }

    private static async Task<AccountCodes> CodesAsync(NpgsqlConnection connection, CancellationToken ct) =>
        AccountCodes.FromJson(await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "select value::text from settings where key = @key", new { key = AccountCodes.Key }, cancellationToken: ct)));

    private static LedgerAccount AccountOf(string stored) =>
        EnumNames.TryParseSnakeCase<LedgerAccount>(stored, out var account) ? account : throw new InvalidOperationException($"Unknown ledger account '{stored}'.");
}
