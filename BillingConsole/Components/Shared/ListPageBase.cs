using BillingConsole.ReadModels;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using MudBlazor;

namespace BillingConsole.Components.Shared;

/// <summary>
/// What every console list does: the applied filter lives in the URL (so a link reproduces the view), the form edits a copy,
/// and the grid pages and sorts on the server.
/// </summary>
public abstract class ListPageBase<TFilter, TRow> : ComponentBase, IDisposable where TFilter : class, new()
{
    [Inject] protected NavigationManager Navigation { get; set; } = default!;

    protected MudDataGrid<TRow>? Grid;
    protected TFilter Filter { get; private set; } = new();
    protected TFilter Edit { get; private set; } = new();
    protected IReadOnlyList<string> FilterErrors { get; private set; } = [];
    /// <summary>What is known of the list's size after the last page read.</summary>
    protected ListCount Count { get; private set; }

    /// <summary>The page's own path, e.g. "/invoices".</summary>
    protected abstract string Path { get; }

    protected abstract Task<PageResult<TRow>> PageAsync(TFilter filter, PageRequest request, CancellationToken ct);

    /// <summary>The form holds a filter not applied yet: the rows shown do not match what is typed.</summary>
    protected bool FilterPending => ListFilters.ToQueryString(Edit) != ListFilters.ToQueryString(Filter);

    protected string ExportHref(string exportPath) => exportPath + ListFilters.ToQueryString(Filter);

    protected override void OnInitialized()
    {
        Show(Navigation.Uri);
        // Applying a filter only changes the query string: the router keeps this page and sets no parameters on it, so the
        // new address is picked up here. Parameter updates (a layout re-render) leave a filter being typed alone.
        Navigation.LocationChanged += OnLocationChanged;
    }

    private void OnLocationChanged(object? sender, LocationChangedEventArgs e)
    {
        if (!string.Equals(new Uri(e.Location).AbsolutePath, Path, StringComparison.OrdinalIgnoreCase)) return;
        _ = InvokeAsync(async () =>
        {
            Show(e.Location);
            if (Grid is not null) await Grid.ReloadServerData();
            StateHasChanged();
        });
    }

    private void Show(string address)
    {
        (Filter, FilterErrors) = ListFilters.Parse<TFilter>(address);
        (Edit, _) = ListFilters.Parse<TFilter>(address);
    }

    protected async Task<GridData<TRow>> LoadAsync(GridState<TRow> state, CancellationToken ct)
    {
        var page = await PageAsync(Filter, state.ToPageRequest(), ct);
        Count = page.Count;
        return page.ToGridData();
    }

    /// <summary>Reads the current page again, keeping its filter, sort and position.</summary>
    protected Task ReloadAsync() => Grid?.ReloadServerData() ?? Task.CompletedTask;

    protected void Apply() => Navigation.NavigateTo(Path + ListFilters.ToQueryString(Edit));

    protected void Clear()
    {
        Edit = new();
        Navigation.NavigateTo(Path);
    }

    public void Dispose()
    {
        Navigation.LocationChanged -= OnLocationChanged;
        GC.SuppressFinalize(this);
    }
}
