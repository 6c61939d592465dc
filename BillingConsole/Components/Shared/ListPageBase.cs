using BillingConsole.ReadModels;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using Microsoft.AspNetCore.WebUtilities;
using MudBlazor;

namespace BillingConsole.Components.Shared;

/// <summary>
/// What every console list does: the applied filter, the sort and the page live in the URL (so a link, a bookmark or the
/// back button reproduces the view), the form edits a copy, and the grid pages and sorts on the server.
/// </summary>
public abstract class ListPageBase<TFilter, TRow> : ComponentBase, IDisposable where TFilter : class, new()
{
    [Inject] protected NavigationManager Navigation { get; set; } = default!;

    protected MudDataGrid<TRow>? Grid;
    protected TFilter Filter { get; private set; } = new();
    protected TFilter Edit { get; private set; } = new();
    /// <summary>The sort and page in the URL; the grid's own page and sort are written back to it.</summary>
    protected ListView View { get; private set; } = new();
    protected IReadOnlyList<string> FilterErrors { get; private set; } = [];
    /// <summary>What is known of the list's size after the last page read.</summary>
    protected ListCount Count { get; private set; }
    /// <summary>Changes when the URL, not the grid, changes what is shown: the grid is then made afresh from the URL.</summary>
    protected int GridKey { get; private set; }
    private bool _gridShowsView;

    /// <summary>The page's own path, e.g. "/invoices".</summary>
    protected abstract string Path { get; }

    /// <summary>The columns the list sorts by, as the URL names them.</summary>
    protected abstract IReadOnlyCollection<string> SortKeys { get; }

    protected abstract Task<PageResult<TRow>> PageAsync(TFilter filter, PageRequest request, CancellationToken ct);

    /// <summary>The form holds a filter not applied yet: the rows shown do not match what is typed.</summary>
    protected bool FilterPending => ListFilters.ToQueryString(Edit) != ListFilters.ToQueryString(Filter);

    /// <summary>The export of every row the list shows, in the list's order.</summary>
    protected string ExportHref(string exportPath) => Address(exportPath, Filter, View with { Page = 0, PageSize = ListView.DefaultPageSize });

    protected override void OnInitialized()
    {
        (Filter, View, FilterErrors) = Read(Navigation.Uri);
        (Edit, _) = ListFilters.Parse<TFilter>(Navigation.Uri);
        // Applying a filter, paging or sorting only changes the query string: the router keeps this page and sets no
        // parameters on it, so the new address is picked up here. Parameter updates (a layout re-render) leave a filter being
        // typed alone.
        Navigation.LocationChanged += OnLocationChanged;
    }

    private void OnLocationChanged(object? sender, LocationChangedEventArgs e)
    {
        if (!string.Equals(new Uri(e.Location).AbsolutePath, Path, StringComparison.OrdinalIgnoreCase)) return;
        _ = InvokeAsync(() =>
        {
            var (filter, view, errors) = Read(e.Location);
            FilterErrors = errors;
            // The grid's own page or sort, already shown: a filter being typed stays.
            if (ListFilters.ToQueryString(filter) != ListFilters.ToQueryString(Filter) || view != View)
            {
                (Filter, View) = (filter, view);
                (Edit, _) = ListFilters.Parse<TFilter>(e.Location);
                GridKey++;
                _gridShowsView = false;
            }
            StateHasChanged();
        });
    }

    private (TFilter Filter, ListView View, IReadOnlyList<string> Errors) Read(string address)
    {
        var query = QueryHelpers.ParseQuery(new Uri(address).Query);
        var (filter, filterErrors) = ListFilters.Parse<TFilter>(query);
        var (view, viewErrors) = ListView.Parse(query, SortKeys);
        return (filter, view, [.. filterErrors, .. viewErrors]);
    }

    private static string Address(string path, TFilter filter, ListView view)
    {
        var filters = ListFilters.ToQueryString(filter);
        var sortAndPage = view.ToQuery();
        return sortAndPage.Length == 0 ? path + filters : path + filters + (filters.Length == 0 ? "?" : "&") + sortAndPage;
    }

    protected async Task<GridData<TRow>> LoadAsync(GridState<TRow> state, CancellationToken ct)
    {
        if (!_gridShowsView)
        {
            // A new grid starts from the URL: its page and size come as parameters, its sort is set before its first read.
            _gridShowsView = true;
            if (Grid is not null && View.SortColumn is { } column)
                await Grid.SetSortAsync(column, View.Descending ? SortDirection.Descending : SortDirection.Ascending, sortFunc: null!);
        }
        else if (ListView.Of(state) is var shown && shown != View)
        {
            View = shown;
            Navigation.NavigateTo(Address(Path, Filter, View));
        }
        var page = await PageAsync(Filter, View.ToPageRequest(), ct);
        Count = page.Count;
        return page.ToGridData();
    }

    /// <summary>Reads the current page again, keeping its filter, sort and position.</summary>
    protected Task ReloadAsync() => Grid?.ReloadServerData() ?? Task.CompletedTask;

    protected void Apply() => Navigation.NavigateTo(Address(Path, Edit, View with { Page = 0 }));

    protected void Clear()
    {
        Edit = new();
        Navigation.NavigateTo(Address(Path, Edit, View with { Page = 0 }));
    }

    public void Dispose()
    {
        Navigation.LocationChanged -= OnLocationChanged;
        GC.SuppressFinalize(this);
    }
}
