using BillingConsole.ReadModels;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace BillingConsole.Components.Shared;

/// <summary>
/// What every console list does: the applied filter lives in the URL (so a link reproduces the view), the form edits a copy,
/// and the grid pages and sorts on the server.
/// </summary>
public abstract class ListPageBase<TFilter, TRow> : ComponentBase where TFilter : class, new()
{
    [Inject] protected NavigationManager Navigation { get; set; } = default!;

    protected MudDataGrid<TRow>? Grid;
    protected TFilter Filter { get; private set; } = new();
    protected TFilter Edit { get; private set; } = new();
    protected IReadOnlyList<string> FilterErrors { get; private set; } = [];

    /// <summary>The page's own path, e.g. "/invoices".</summary>
    protected abstract string Path { get; }

    protected abstract Task<PageResult<TRow>> PageAsync(TFilter filter, PageRequest request, CancellationToken ct);

    protected string ExportHref(string exportPath) => exportPath + ListFilters.ToQueryString(Filter);

    protected override async Task OnParametersSetAsync()
    {
        (Filter, FilterErrors) = ListFilters.Parse<TFilter>(Navigation.Uri);
        (Edit, _) = ListFilters.Parse<TFilter>(Navigation.Uri);
        if (Grid is not null) await Grid.ReloadServerData();
    }

    protected async Task<GridData<TRow>> LoadAsync(GridState<TRow> state, CancellationToken ct) =>
        (await PageAsync(Filter, state.ToPageRequest(), ct)).ToGridData();

    protected void Apply() => Navigation.NavigateTo(Path + ListFilters.ToQueryString(Edit));

    protected void Clear() => Navigation.NavigateTo(Path);
}
