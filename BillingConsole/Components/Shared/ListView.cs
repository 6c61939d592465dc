using System.Globalization;
using BillingConsole.ReadModels;
using Microsoft.Extensions.Primitives;
using MudBlazor;

namespace BillingConsole.Components.Shared;

/// <summary>
/// A list's sort and page as they appear in its URL (<c>sort=total&amp;order=asc&amp;page=3&amp;size=50</c>), so a link, a
/// bookmark or the back button shows the same rows in the same order, and the CSV export of the same URL keeps that order.
/// <see cref="Page"/> counts from 0 like the grid; the URL counts from 1.
/// </summary>
public sealed record ListView(string? SortBy = null, bool Descending = true, int Page = 0, int PageSize = ListView.DefaultPageSize)
{
    public const int DefaultPageSize = 25;
    public static readonly int[] PageSizes = [25, 50, 100];

    /// <summary>Deeper pages are read with OFFSET, which walks every row it skips: past the count cap a list is narrowed or sorted the other way.</summary>
    public static int LastPageNumber(int pageSize) => ListQuery.CountCap / pageSize;

    public PageRequest ToPageRequest() => new(Page, PageSize, SortBy, Descending);

    /// <summary>What the grid shows: its page, page size and the column it sorts by (keys are the column properties in camelCase).</summary>
    public static ListView Of<T>(GridState<T> state)
    {
        var sort = state.SortDefinitions.FirstOrDefault();
        var key = sort?.SortBy is { Length: > 0 } by ? char.ToLowerInvariant(by[0]) + by[1..] : null;
        return new ListView(key, key is null || sort!.Descending, state.Page, state.PageSize);
    }

    /// <summary>The grid column a sort key names (the row property), e.g. "total" → "Total".</summary>
    public string? SortColumn => SortBy is { Length: > 0 } key ? char.ToUpperInvariant(key[0]) + key[1..] : null;

    public static (ListView View, IReadOnlyList<string> Errors) Parse(IDictionary<string, StringValues> query, IReadOnlyCollection<string> sortKeys)
    {
        var errors = new List<string>();
        var view = new ListView();
        if (Text(query, "sort") is { } sort)
        {
            if (sortKeys.Contains(sort)) view = view with { SortBy = sort, Descending = false };
            else errors.Add($"'{sort}' is not a sort: choose one of {string.Join(", ", sortKeys)}.");
        }
        switch (Text(query, "order"))
        {
            case null: break;
            case "asc": view = view with { Descending = view.SortBy is null }; break;
            case "desc": view = view with { Descending = true }; break;
            case var order: errors.Add($"'{order}' is not an order: choose asc or desc."); break;
        }
        if (Text(query, "size") is { } sizeText)
        {
            if (int.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && PageSizes.Contains(size)) view = view with { PageSize = size };
            else errors.Add($"'{sizeText}' is not a page size: choose one of {string.Join(", ", PageSizes)}.");
        }
        if (Text(query, "page") is { } pageText)
        {
            var last = LastPageNumber(view.PageSize);
            if (int.TryParse(pageText, NumberStyles.None, CultureInfo.InvariantCulture, out var page) && page >= 1 && page <= last) view = view with { Page = page - 1 };
            else errors.Add($"'{pageText}' is not a page: use a number from 1 to {last} (at {view.PageSize} rows a page).");
        }
        return (view, errors);
    }

    /// <summary>The URL's sort and page; what is the default is left out.</summary>
    public string ToQuery()
    {
        var parts = new List<string>();
        if (SortBy is not null) parts.Add($"sort={Uri.EscapeDataString(SortBy)}&order={(Descending ? "desc" : "asc")}");
        if (Page > 0) parts.Add($"page={Page + 1}");
        if (PageSize != DefaultPageSize) parts.Add($"size={PageSize}");
        return string.Join('&', parts);
    }

    private static string? Text(IDictionary<string, StringValues> query, string key) =>
        query.TryGetValue(key, out var values) && values.ToString().Trim() is { Length: > 0 } text ? text : null;
}
