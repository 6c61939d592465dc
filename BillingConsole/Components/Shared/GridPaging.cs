using BillingConsole.ReadModels;
using MudBlazor;

namespace BillingConsole.Components.Shared;

public static class GridPaging
{
    /// <summary>
    /// The page for the grid. Its pager reaches the first <see cref="ListQuery.CountCap"/> rows: deeper pages would be read
    /// with OFFSET past rows nobody counted, so past the cap a list is narrowed by a filter or sorted the other way.
    /// </summary>
    public static GridData<T> ToGridData<T>(this PageResult<T> page) =>
        new() { Items = page.Items, TotalItems = Math.Min(page.TotalCount, ListQuery.CountCap) };
}
