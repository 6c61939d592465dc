using BillingConsole.ReadModels;
using MudBlazor;

namespace BillingConsole.Components.Shared;

public static class GridPaging
{
    /// <summary>The grid's page and sort as a read-model request; sort keys are the column properties in camelCase.</summary>
    public static PageRequest ToPageRequest<T>(this GridState<T> state)
    {
        var sort = state.SortDefinitions.FirstOrDefault();
        var key = sort?.SortBy is { Length: > 0 } by ? char.ToLowerInvariant(by[0]) + by[1..] : null;
        return new PageRequest(state.Page, state.PageSize, key, sort?.Descending ?? true);
    }

    public static GridData<T> ToGridData<T>(this PageResult<T> page) => new() { Items = page.Items, TotalItems = page.TotalCount };
}
