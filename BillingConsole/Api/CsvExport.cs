using System.Globalization;
using System.Reflection;
using System.Text;
using BillingConsole.Components.Shared;
using BillingConsole.Domain.Common;
using BillingConsole.Engine.Accounting;
using BillingConsole.Extensions;
using BillingConsole.ReadModels;
using Microsoft.AspNetCore.WebUtilities;

namespace BillingConsole.Api;

/// <summary>CSV of exactly what a list shows for the same query string, in the same order, streamed row by row from the database.</summary>
public static class CsvExport
{
    public static void MapCsvExports(this IEndpointRouteBuilder endpoints)
    {
        var export = endpoints.MapGroup("/export").RequireAuthorization(ConsolePolicies.Read);
        export.MapGet("/invoices.csv", (HttpContext context, InvoiceList list) =>
            Stream<InvoiceListFilter, InvoiceRow>(context, "invoices", InvoiceList.SortKeys,
                (filter, view, ct) => list.StreamAsync(filter, view.SortBy, view.Descending, ct)));
        export.MapGet("/subscriptions.csv", (HttpContext context, SubscriptionList list) =>
            Stream<SubscriptionListFilter, SubscriptionRow>(context, "subscriptions", SubscriptionList.SortKeys,
                (filter, view, ct) => list.StreamAsync(filter, view.SortBy, view.Descending, ct)));
        export.MapGet("/customers.csv", (HttpContext context, CustomerList list) =>
            Stream<CustomerListFilter, CustomerRow>(context, "customers", CustomerList.SortKeys,
                (filter, view, ct) => list.StreamAsync(filter, view.SortBy, view.Descending, ct)));
        export.MapGet("/payments.csv", (HttpContext context, PaymentList list) =>
            Stream<PaymentListFilter, PaymentRow>(context, "payments", PaymentList.SortKeys,
                (filter, view, ct) => list.StreamAsync(filter, view.SortBy, view.Descending, ct)));
        export.MapGet("/dunning.csv", (HttpContext context, DunningQueue list) =>
            Stream<DunningQueueFilter, DunningCaseListRow>(context, "dunning", DunningQueue.SortKeys,
                (filter, view, ct) => list.StreamAsync(filter, view.SortBy, view.Descending, ct)));
        export.MapGet("/audit.csv", (HttpContext context, AuditList list) =>
            Stream<AuditListFilter, AuditRow>(context, "audit", AuditList.SortKeys,
                (filter, view, ct) => list.StreamAsync(filter, view.SortBy, view.Descending, ct)));
        export.MapGet("/mrr.csv", MrrBridgeAsync);
        export.MapGet("/recovery.csv", RecoveryAsync);
        export.MapGet("/cohorts.csv", CohortsAsync);
        export.MapGet("/journal.csv", JournalAsync);
        export.MapGet("/trial-balance.csv", TrialBalanceAsync);
        export.MapGet("/tax.csv", TaxReportAsync);
    }

    /// <summary>The column names of the journal export, in order (docs/analytics.md, "Journal export").</summary>
    public const string JournalHeader = "Date,OccurredAt,Entry,Line,Kind,AccountCode,Account,Debit,Credit,Currency,CustomerId,InvoiceId,InvoiceNumber";

    public const string TrialBalanceHeader = "From,To,Currency,AccountCode,Account,Opening,Debits,Credits,Closing";

    /// <summary>The ledger's lines of a period (<c>?from=yyyy-MM-dd&amp;to=yyyy-MM-dd</c>, both days included) as journal entries.</summary>
    private static async Task<IResult> JournalAsync(HttpContext context, JournalQueries journal, string? from, string? to)
    {
        if (JournalPeriod.Parse(from, to) is not ({ } period, null)) return InvalidPeriod(from, to);
        await using var writer = CsvResponse(context, $"journal-{period.FromText}-to-{period.ToText}.csv");
        await writer.WriteLineAsync(JournalHeader);
        await foreach (var line in journal.StreamAsync(period, context.RequestAborted))
            await writer.WriteLineAsync(string.Join(',', Cell(JournalPeriod.Text(line.Date)), Cell(line.OccurredAt), Cell(line.Entry), Cell(line.Line),
                Cell(line.Kind), Cell(line.AccountCode), Cell(AccountCodes.NameOf(line.Account)), Cell(line.Debit), Cell(line.Credit), Cell(line.Currency),
                Cell(line.CustomerId), Cell(line.InvoiceId), Cell(line.InvoiceNumber)));
        return Results.Empty;
    }

    /// <summary>The trial balance of the same period: each account's opening balance, the period's debits and credits, its closing balance.</summary>
    private static async Task<IResult> TrialBalanceAsync(HttpContext context, JournalQueries journal, string? from, string? to)
    {
        if (JournalPeriod.Parse(from, to) is not ({ } period, null)) return InvalidPeriod(from, to);
        var lines = await journal.TrialBalanceAsync(period, context.RequestAborted);
        await using var writer = CsvResponse(context, $"trial-balance-{period.FromText}-to-{period.ToText}.csv");
        await writer.WriteLineAsync(TrialBalanceHeader);
        foreach (var line in lines)
            await writer.WriteLineAsync(string.Join(',', Cell(period.FromText), Cell(period.ToText), Cell(line.Currency), Cell(line.Code), Cell(line.Name),
                Cell(line.Opening), Cell(line.Debits), Cell(line.Credits), Cell(line.Closing)));
        return Results.Empty;
    }

    /// <summary>The tax report of the same period: per country (and region), rate and currency, the taxable amount and the tax.</summary>
    private static async Task<IResult> TaxReportAsync(HttpContext context, TaxReportQueries report, string? from, string? to)
    {
        if (JournalPeriod.Parse(from, to) is not ({ } period, null)) return InvalidPeriod(from, to);
        var rows = await report.ForAsync(period, context.RequestAborted);
        await using var writer = CsvResponse(context, $"tax-{period.FromText}-to-{period.ToText}.csv");
        await writer.WriteLineAsync("From,To,Country,Region,Rate,ReverseCharge,Currency,Invoices,Taxable,Tax");
        foreach (var row in rows)
            await writer.WriteLineAsync(string.Join(',', Cell(period.FromText), Cell(period.ToText), Cell(row.Country), Cell(row.Region), Cell(row.Rate),
                Cell(row.ReverseCharge ? "true" : "false"), Cell(row.Currency), Cell(row.Invoices), Cell(row.Taxable), Cell(row.Tax)));
        return Results.Empty;
    }

    private static IResult InvalidPeriod(string? from, string? to) =>
        Results.Problem(title: "Invalid period", detail: JournalPeriod.Parse(from, to).Error, statusCode: StatusCodes.Status400BadRequest);

    private static StreamWriter CsvResponse(HttpContext context, string fileName)
    {
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        return new StreamWriter(context.Response.Body, new UTF8Encoding(false), bufferSize: 64 * 1024);
    }

    /// <summary>The Analytics page's MRR bridge of one month (<c>?month=yyyy-MM</c>): opening, each movement, closing, per currency.</summary>
    private static async Task<IResult> MrrBridgeAsync(HttpContext context, MrrBridgeQueries queries, string? month)
    {
        if (MrrBridgeQueries.ParseMonth(month) is not { } chosen) return InvalidMonth();
        var bridges = await queries.MonthAsync(chosen, context.RequestAborted);
        await using var writer = CsvResponse(context, $"mrr-{MrrBridgeQueries.MonthText(chosen)}.csv");
        await writer.WriteLineAsync("Month,Currency,Line,Subscriptions,Amount");
        foreach (var bridge in bridges)
        {
            var lines = bridge.Steps.Select(step => (step.Kind, (int?)step.Subscriptions, step.Amount))
                .Prepend(("opening", null, bridge.Opening)).Append(("closing", null, bridge.Closing));
            foreach (var (line, subscriptions, amount) in lines)
                await writer.WriteLineAsync(string.Join(',', Cell(MrrBridgeQueries.MonthText(bridge.Month)), Cell(bridge.Currency), Cell(line),
                    Cell(subscriptions), Cell(amount)));
        }
        return Results.Empty;
    }

    public const string RecoveryHeader = "Month,Table,Key,Count,Succeeded,Rate";

    /// <summary>
    /// The Analytics page's dunning recovery of one month (<c>?month=yyyy-MM</c>), one table after the other in one layout:
    /// <c>outcome</c> (Key the outcome, Count its cases), <c>retry_number</c> (Count made, Succeeded), <c>decline_code</c>
    /// (Count cases, Succeeded recovered), <c>days_to_recovery</c> (Count recovered), <c>recovered_amount</c> and
    /// <c>written_off_amount</c> (Key the currency, Count the amount). Rate is a fraction, empty where none applies.
    /// </summary>
    private static async Task<IResult> RecoveryAsync(HttpContext context, DunningStatistics statistics, string? month)
    {
        if (MrrBridgeQueries.ParseMonth(month) is not { } chosen) return InvalidMonth();
        var report = await statistics.ReportAsync(MrrBridgeQueries.PeriodOf(chosen), context.RequestAborted);
        var summary = report.Summary;
        var rows = new List<(string Table, object Key, object Count, object? Succeeded, double? Rate)>
        {
            ("outcome", "opened", summary.Cases, null, null), ("outcome", "recovered", summary.Recovered, null, summary.RecoveryRate),
            ("outcome", "exhausted", summary.Exhausted, null, null), ("outcome", "closed", summary.Closed, null, null), ("outcome", "open", summary.Open, null, null),
        };
        rows.AddRange(report.ByRetryNumber.Select(r => ("retry_number", (object)r.RetryNumber, (object)r.Attempts, (object?)r.Succeeded, (double?)r.SuccessRate)));
        rows.AddRange(report.ByDeclineCode.Select(d => ("decline_code", (object)d.DeclineCode, (object)d.Cases, (object?)d.Recovered, d.RecoveryRate)));
        rows.AddRange(report.ByDaysToRecovery.Select(b => ("days_to_recovery", (object)b.Label, (object)b.Recovered, (object?)null, (double?)b.Share)));
        rows.AddRange(report.Revenue.Select(r => ("recovered_amount", (object)r.Currency, (object)r.Recovered, (object?)null, (double?)null)));
        rows.AddRange(report.Revenue.Select(r => ("written_off_amount", (object)r.Currency, (object)r.WrittenOff, (object?)null, (double?)null)));
        await using var writer = CsvResponse(context, $"recovery-{MrrBridgeQueries.MonthText(chosen)}.csv");
        await writer.WriteLineAsync(RecoveryHeader);
        foreach (var row in rows)
            await writer.WriteLineAsync(string.Join(',', Cell(MrrBridgeQueries.MonthText(chosen)), Cell(row.Table), Cell(row.Key), Cell(row.Count),
                Cell(row.Succeeded), Cell(row.Rate is { } rate ? Math.Round(rate, 4) : null)));
        return Results.Empty;
    }

    public const string CohortHeader = "SignUpMonth,Currency,Customers,StartingMrr,MonthsSinceSignUp,Month,Retained,LogoRetention,Mrr,RevenueRetention";

    /// <summary>The Analytics page's cohort table (<c>?month=yyyy-MM&amp;currency=USD&amp;cohorts=12</c>): one line per cohort and month since sign-up.</summary>
    private static async Task<IResult> CohortsAsync(HttpContext context, CohortQueries queries, string? month, string? currency, string? cohorts)
    {
        if (MrrBridgeQueries.ParseMonth(month) is not { } chosen) return InvalidMonth();
        if (!Currencies.IsKnown(currency) || CohortQueries.ParseCount(cohorts) is not { } count)
            return Results.Problem(title: "Invalid cohort filter", statusCode: StatusCodes.Status400BadRequest,
                detail: $"currency must be one of {string.Join(", ", Currencies.All)}; cohorts one of {string.Join(", ", CohortQueries.CohortCounts)}.");
        var code = Currencies.Normalize(currency!);
        var table = await queries.TableAsync(code, chosen, count, context.RequestAborted);
        await using var writer = CsvResponse(context, $"cohorts-{code}-{MrrBridgeQueries.MonthText(chosen)}.csv");
        await writer.WriteLineAsync(CohortHeader);
        foreach (var cohort in table)
        foreach (var cell in cohort.Months)
            await writer.WriteLineAsync(string.Join(',', Cell(MrrBridgeQueries.MonthText(cohort.SignUpMonth)), Cell(code), Cell(cohort.Customers),
                Cell(cohort.StartingMrr), Cell(cell.Index), Cell(MrrBridgeQueries.MonthText(cell.Month)), Cell(cell.Retained),
                Cell(Fraction(cohort.LogoRetention(cell))), Cell(cell.Mrr), Cell(Fraction(cohort.RevenueRetention(cell)))));
        return Results.Empty;
    }

    private static decimal? Fraction(decimal? rate) => rate is { } r ? Math.Round(r, 4) : null;

    private static IResult InvalidMonth() =>
        Results.Problem(title: "Invalid month", detail: "month must be a month written yyyy-MM, e.g. 2027-04.", statusCode: StatusCodes.Status400BadRequest);

    /// <summary>Every row the list shows for the query string, in the list's sort order (the page and page size do not narrow it).</summary>
    private static async Task<IResult> Stream<TFilter, TRow>(HttpContext context, string name, IReadOnlyCollection<string> sortKeys,
        Func<TFilter, ListView, CancellationToken, IAsyncEnumerable<TRow>> rows) where TFilter : class, new()
    {
        var query = QueryHelpers.ParseQuery(context.Request.QueryString.Value);
        var (filter, filterErrors) = ListFilters.Parse<TFilter>(query);
        var (view, viewErrors) = ListView.Parse(query, sortKeys);
        if (filterErrors.Count + viewErrors.Count > 0)
            return Results.Problem(title: "Invalid filter", detail: string.Join(" ", filterErrors.Concat(viewErrors)), statusCode: StatusCodes.Status400BadRequest);
        var properties = typeof(TRow).GetProperties(BindingFlags.Public | BindingFlags.Instance);
        await using var writer = CsvResponse(context, $"{name}-{context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow():yyyyMMdd-HHmm}.csv");
        await writer.WriteLineAsync(string.Join(',', properties.Select(p => Cell(p.Name))));
        await foreach (var row in rows(filter, view, context.RequestAborted))
            await writer.WriteLineAsync(string.Join(',', properties.Select(p => Cell(p.GetValue(row)))));
        return Results.Empty;
    }

    /// <summary>Quotes as RFC 4180 asks, and defuses cells a spreadsheet would run as a formula.</summary>
    public static string Cell(object? value)
    {
        var text = value switch
        {
            null => string.Empty,
            DateTimeOffset time => time.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? string.Empty,
        };
        if (text.Length > 0 && "=+-@\t\r".Contains(text[0]) && value is string) text = "'" + text;
        return text.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{text.Replace("\"", "\"\"")}\"" : text;
    }
}
