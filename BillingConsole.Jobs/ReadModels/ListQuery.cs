using System.Text;
using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

public sealed record PageRequest(int Page, int PageSize, string? SortBy, bool Descending)
{
    public const int MaxPageSize = 200;
    public int Offset => Math.Max(Page, 0) * Math.Clamp(PageSize, 1, MaxPageSize);
    public int Limit => Math.Clamp(PageSize, 1, MaxPageSize);
}

/// <summary>One page of a list. Counting stops at <see cref="ListQuery.CountCap"/> rows so a count never scans a million rows.</summary>
public sealed record PageResult<T>(IReadOnlyList<T> Items, int TotalCount, bool CountCapped);

/// <summary>
/// A list read straight from SQL: a FROM clause, filters added as parameterised WHERE clauses, sorting only by whitelisted
/// columns (with the id as tie-breaker so pages are stable), and a capped count. Shared by every console list and its CSV export.
/// </summary>
public sealed class ListQuery(string select, string from, IReadOnlyDictionary<string, string> sortColumns, string defaultSort, string idColumn)
{
    public const int CountCap = 10_000;
    private readonly List<string> _conditions = [];
    private readonly DynamicParameters _parameters = new();

    public ListQuery Where(string condition, string? name = null, object? value = null)
    {
        _conditions.Add(condition);
        if (name is not null) _parameters.Add(name, value);
        return this;
    }

    public ListQuery WhereIf(bool apply, string condition, string name, object? value) => apply ? Where(condition, name, value) : this;

    private string WhereClause => _conditions.Count == 0 ? string.Empty : " where " + string.Join(" and ", _conditions);

    private string OrderBy(PageRequest request) =>
        $" order by {(request.SortBy is not null && sortColumns.TryGetValue(request.SortBy, out var column) ? column : defaultSort)} " +
        $"{(request.Descending || request.SortBy is null ? "desc" : "asc")}, {idColumn} {(request.Descending || request.SortBy is null ? "desc" : "asc")}";

    public async Task<PageResult<T>> PageAsync<T>(NpgsqlDataSource dataSource, PageRequest request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var sql = new StringBuilder($"select {select} from {from}{WhereClause}{OrderBy(request)} limit {request.Limit} offset {request.Offset}");
        var items = (await connection.QueryAsync<T>(new CommandDefinition(sql.ToString(), _parameters, cancellationToken: ct))).ToList();
        var count = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"select count(*) from (select 1 from {from}{WhereClause} limit {CountCap + 1}) capped", _parameters, cancellationToken: ct));
        return new PageResult<T>(items, Math.Min(count, CountCap), count > CountCap);
    }

    /// <summary>Every matching row in list order, streamed (for CSV export): rows are read one at a time, never all held.</summary>
    public async IAsyncEnumerable<T> StreamAsync<T>(NpgsqlDataSource dataSource, string? sortBy, bool descending,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var sql = $"select {select} from {from}{WhereClause}{OrderBy(new PageRequest(0, 1, sortBy, descending))}";
        await foreach (var row in connection.QueryUnbufferedAsync<T>(sql, _parameters).WithCancellation(ct))
            yield return row;
    }
}
