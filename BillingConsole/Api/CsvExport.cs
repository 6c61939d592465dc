using System.Globalization;
using System.Reflection;
using System.Text;
using BillingConsole.Components.Shared;
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
    }

    /// <summary>Every row the list shows for the query string, in the list's sort order (the page and page size do not narrow it).</summary>
    private static async Task<IResult> Stream<TFilter, TRow>(HttpContext context, string name, IReadOnlyCollection<string> sortKeys,
        Func<TFilter, ListView, CancellationToken, IAsyncEnumerable<TRow>> rows) where TFilter : class, new()
    {
        var query = QueryHelpers.ParseQuery(context.Request.QueryString.Value);
        var (filter, filterErrors) = ListFilters.Parse<TFilter>(query);
        var (view, viewErrors) = ListView.Parse(query, sortKeys);
        if (filterErrors.Count + viewErrors.Count > 0)
            return Results.Problem(title: "Invalid filter", detail: string.Join(" ", filterErrors.Concat(viewErrors)), statusCode: StatusCodes.Status400BadRequest);
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}-{context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow():yyyyMMdd-HHmm}.csv\"";
        var properties = typeof(TRow).GetProperties(BindingFlags.Public | BindingFlags.Instance);
        await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false), bufferSize: 64 * 1024);
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
