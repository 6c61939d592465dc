using BillingConsole.Components.Shared;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace BillingConsole.Tests.Components;

/// <summary>A list's sort and page read from its URL and written back to it.</summary>
[PureTests]
public sealed class ListViewTests
{
    private static (ListView View, IReadOnlyList<string> Errors) Parse(string query) =>
        ListView.Parse(QueryHelpers.ParseQuery(query), InvoiceList.SortKeys);

    [Theory]
    [InlineData("", null, true, 0, 25)]
    [InlineData("?sort=total&order=asc", "total", false, 0, 25)]
    [InlineData("?sort=total&order=desc&page=3&size=50", "total", true, 2, 50)]
    [InlineData("?sort=dueAt", "dueAt", false, 0, 25)]
    [InlineData("?page=400", null, true, 399, 25)]
    public void A_URL_names_the_sort_and_the_page_and_writes_them_back_the_same(string query, string? sortBy, bool descending, int page, int size)
    {
        var (view, errors) = Parse(query);

        Assert.Empty(errors);
        Assert.Equal(new ListView(sortBy, descending, page, size), view);
        Assert.Equal(view, Parse("?" + view.ToQuery()).View);
        Assert.Equal(new PageRequest(page, size, sortBy, descending), view.ToPageRequest());
    }

    [Theory]
    [InlineData("?sort=colour", "'colour' is not a sort: choose one of number, customerName, status, total, amountDue, createdAt, dueAt.", null, 25)]
    [InlineData("?sort=total&order=sideways", "'sideways' is not an order: choose asc or desc.", "total", 25)]
    [InlineData("?page=0", "'0' is not a page: use a number from 1 to 400 (at 25 rows a page).", null, 25)]
    [InlineData("?page=201&size=50", "'201' is not a page: use a number from 1 to 200 (at 50 rows a page).", null, 50)]
    [InlineData("?page=two", "'two' is not a page: use a number from 1 to 400 (at 25 rows a page).", null, 25)]
    [InlineData("?size=30", "'30' is not a page size: choose one of 25, 50, 100.", null, 25)]
    public void A_bad_sort_or_page_is_named_and_the_rest_of_the_URL_still_applies(string query, string error, string? sortBy, int size)
    {
        var (view, errors) = Parse(query);

        Assert.Equal([error], errors);
        // A sort named alone reads ascending, as a click on its column header does.
        Assert.Equal(new ListView(sortBy, Descending: sortBy is null, Page: 0, PageSize: size), view);
    }
}
