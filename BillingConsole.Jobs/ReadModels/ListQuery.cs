using System.Text.RegularExpressions;
using BillingConsole.Configuration;
using BillingConsole.Persistence;
using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

public sealed record PageRequest(int Page, int PageSize, string? SortBy, bool Descending)
{
    public const int MaxPageSize = 200;
    public int Offset => Math.Max(Page, 0) * Math.Clamp(PageSize, 1, MaxPageSize);
    public int Limit => Math.Clamp(PageSize, 1, MaxPageSize);
}

/// <summary>How much of a list's size is known.</summary>
public enum ListCount
{
    /// <summary><see cref="PageResult{T}.TotalCount"/> rows match.</summary>
    Exact,
    /// <summary>More than <see cref="PageResult{T}.TotalCount"/> rows match: counting stopped at <see cref="ListQuery.CountCap"/>.</summary>
    Capped,
    /// <summary>Counting took longer than the page may wait; at least <see cref="PageResult{T}.TotalCount"/> rows match.</summary>
    Unknown,
}

/// <summary>One page of a list and what is known of the list's size.</summary>
public sealed record PageResult<T>(IReadOnlyList<T> Items, int TotalCount, ListCount Count);

/// <summary>
/// A list read straight from SQL: a FROM clause, filters added as parameterised WHERE clauses, sorting only by whitelisted
/// columns (with the id as tie-breaker so pages are stable), and a capped count. Shared by every console list and its CSV export.
/// At a million rows a page stays fast only when an index walks its order: every sort column list here has an index that
/// starts with those columns, and the count runs beside the page with a time budget instead of holding it up.
/// <paramref name="joins"/> are to-one inner joins along not-null foreign keys ("join customers c on c.id = i.customer_id"):
/// they never add or drop a row, so the count leaves out those no filter refers to.
/// </summary>
public sealed class ListQuery(ListOptions options, string select, string table, IReadOnlyList<string> joins, IReadOnlyDictionary<string, string> sortColumns,
    string defaultSort, string idColumn)
{
    public const int CountCap = 10_000;

    private static readonly Regex JoinAlias = new(@"^join\s+\w+\s+(\w+)\s+on\s", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private readonly List<string> _conditions = [];
    private readonly DynamicParameters _parameters = new();
    private CustomerSearch? _customerSearch;
    private readonly List<string> _rangeColumns = [];

    /// <summary>
    /// At most this many rows match a list with a range filter: a page then fetches them along the indexes the filters use
    /// and sorts them (a few tens of milliseconds), rather than walking the list's order and skipping the rows out of range.
    /// A run bills hundreds of thousands of invoices of one price, all newer than any other: a walk for other totals passed
    /// 520,000 of them for one page. More matches are met soon enough along any order.
    /// </summary>
    public const int BoundedRangeCap = 200_000;

    /// <summary>A search on the customer's name or email (customers joined as <c>c</c>), or on a column of the row itself.</summary>
    private sealed record CustomerSearch(string CustomerIdColumn, string? AlsoMatching);

    public ListQuery Where(string condition, string? name = null, object? value = null)
    {
        _conditions.Add(condition);
        if (name is not null) _parameters.Add(name, value);
        return this;
    }

    public ListQuery WhereIf(bool apply, string condition, string name, object? value) => apply ? Where(condition, name, value) : this;

    /// <summary>
    /// Rows whose <paramref name="column"/> (an index starts with it) lies between <paramref name="min"/> and
    /// <paramref name="max"/>, either left open; the values are the parameters <c>@{name}Min</c> and <c>@{name}Max</c>.
    /// </summary>
    public ListQuery WhereBetween(string column, string name, decimal? min, decimal? max) =>
        WhereRange(column, name, min is null ? null : $"{column} >= @{name}Min", min, max is null ? null : $"{column} <= @{name}Max", max);

    /// <summary>Rows whose <paramref name="column"/> (an index starts with it) lies from <paramref name="from"/> until before <paramref name="until"/>.</summary>
    public ListQuery WhereWithin(string column, string name, DateTimeOffset? from, DateTimeOffset? until) =>
        WhereRange(column, name, from is null ? null : $"{column} >= @{name}Min", from, until is null ? null : $"{column} < @{name}Max", until);

    private ListQuery WhereRange(string column, string name, string? lower, object? min, string? upper, object? max)
    {
        if (lower is null && upper is null) return this;
        _rangeColumns.Add(column);
        _parameters.Add($"{name}Min", min);
        _parameters.Add($"{name}Max", max);
        return Where(string.Join(" and ", new[] { lower, upper }.OfType<string>()));
    }

    /// <summary>
    /// Leaves out the rows of customers on a test clock (their customer's id in <paramref name="customerIdColumn"/>) unless
    /// <paramref name="shown"/>: the figures that link to a list leave them out, so the list does by default.
    /// </summary>
    public ListQuery WhereTestCustomersShown(bool? shown, string customerIdColumn) => shown == true ? this : Where(TestCustomers.Excluded(customerIdColumn));

    /// <summary>
    /// Rows whose customer's name or email contains <paramref name="text"/> (customers joined as <c>c</c>, their id in
    /// <paramref name="customerIdColumn"/>), or whose <paramref name="alsoMatching"/> column contains it.
    /// </summary>
    public ListQuery WhereCustomerMatches(string? text, string customerIdColumn, string? alsoMatching = null)
    {
        var search = text?.Trim();
        if (string.IsNullOrEmpty(search)) return this;
        _parameters.Add("search", $"%{ListText.EscapeLike(search)}%");
        _customerSearch = new CustomerSearch(customerIdColumn, alsoMatching);
        return this;
    }

    /// <summary>
    /// The WHERE clause and its parameters; Countable is false when counting would read the whole list (a common search);
    /// Bounded is true when a search found its customers, so the matching rows are theirs alone and few enough to fetch.
    /// </summary>
    private async Task<(string Where, DynamicParameters Parameters, bool Countable, bool Bounded)> WhereClauseAsync(NpgsqlDataSource dataSource,
        CancellationToken ct)
    {
        var countable = true;
        var bounded = false;
        var conditions = new List<string>(_conditions);
        var parameters = new DynamicParameters(_parameters);
        if (_customerSearch is { } search)
        {
            var also = search.AlsoMatching is null ? string.Empty : $"{search.AlsoMatching} ilike @search or ";
            if (await MatchingCustomersAsync(dataSource, parameters, ct) is { } customers)
            {
                parameters.Add("searchCustomers", customers);
                conditions.Add($"({also}{search.CustomerIdColumn} = any(@searchCustomers))");
                bounded = true;
            }
            else
            {
                // coalesce hides the text match from the trigram indexes: their statistics guess a few hundred customers
                // match, and the planner would fetch them all before reading a single row in list order.
                conditions.Add($"coalesce({also}c.name ilike @search or c.email ilike @search, false)");
                // Counting would look up the customer of every row in the list: it could only run out of time.
                countable = false;
            }
        }
        return (conditions.Count == 0 ? string.Empty : " where " + string.Join(" and ", conditions), parameters, countable, bounded);
    }

    /// <summary>The customers whose name or email matches, or null when the text is common: more than the cap match.</summary>
    private async Task<Guid[]?> MatchingCustomersAsync(NpgsqlDataSource dataSource, DynamicParameters parameters, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // A 1% sample of the customers tells a common text in a few milliseconds; fetching its matches to find out costs
        // as much as reading the page in list order.
        var sampled = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from customers tablesample system (1) repeatable (0) where name ilike @search or email ilike @search",
            parameters, cancellationToken: ct));
        if (sampled * 100 > options.SearchedCustomersCap) return null;
        var customers = (await connection.QueryAsync<Guid>(new CommandDefinition(
            $"select id from customers where name ilike @search or email ilike @search limit {options.SearchedCustomersCap + 1}",
            parameters, cancellationToken: ct))).ToArray();
        return customers.Length <= options.SearchedCustomersCap ? customers : null;
    }

    private bool SortsByJoinedTable(string? sortBy) =>
        !Sort(sortBy, false).Columns[0].StartsWith(table.Split(' ')[^1] + ".", StringComparison.Ordinal);

    /// <summary>A range filter, and a sort not by its column (whose index walks the range in order).</summary>
    private bool RangeMayBound(string? sortBy) => _rangeColumns.Count > 0 && !_rangeColumns.Contains(Sort(sortBy, false).Columns[0]);

    private string From(IEnumerable<string> withJoins) => string.Join(" ", withJoins.Prepend(table));

    /// <summary>The joins <paramref name="where"/> refers to, and the joins those refer to.</summary>
    private List<string> JoinsNeededBy(string where)
    {
        var needed = new List<string>();
        var referring = where;
        foreach (var join in joins.Reverse())
        {
            var alias = JoinAlias.Match(join) is { Success: true } match ? match.Groups[1].Value : throw new ArgumentException($"Not a join with an alias: {join}");
            if (!Regex.IsMatch(referring, $@"\b{alias}\.", RegexOptions.CultureInvariant)) continue;
            needed.Insert(0, join);
            referring += " " + join;
        }
        return needed;
    }

    /// <summary>The columns a sort orders by, the id last, and its direction.</summary>
    private (string[] Columns, string Direction) Sort(string? sortBy, bool descending)
    {
        var columns = sortBy is not null && sortColumns.TryGetValue(sortBy, out var sorted) ? sorted : defaultSort;
        return ([.. columns.Split(',').Select(column => column.Trim()), idColumn], descending || sortBy is null ? "desc" : "asc");
    }

    private string OrderBy(string? sortBy, bool descending)
    {
        var (columns, direction) = Sort(sortBy, descending);
        return " order by " + string.Join(", ", columns.Select(column => $"{column} {direction}"));
    }

    public async Task<PageResult<T>> PageAsync<T>(NpgsqlDataSource dataSource, PageRequest request, CancellationToken ct)
    {
        var (where, parameters, countable, bounded) = await WhereClauseAsync(dataSource, ct);
        Task<int?> count;
        if (!bounded && countable && RangeMayBound(request.SortBy))
        {
            // Counted first, further than the pager needs: few enough matches are fetched and sorted.
            var matching = await CountAsync(dataSource, where, parameters, BoundedRangeCap, ct);
            bounded = matching <= BoundedRangeCap;
            count = Task.FromResult(matching);
        }
        else count = countable ? CountAsync(dataSource, where, parameters, CountCap, ct) : Task.FromResult<int?>(null);
        var page = ReadPageAsync<T>(dataSource, where, parameters, bounded, request, ct);
        await Task.WhenAll(count, page);
        var items = page.Result;
        var lastPage = items.Count < request.Limit && (items.Count > 0 || request.Offset == 0);
        return count.Result switch
        {
            null when lastPage => new PageResult<T>(items, request.Offset + items.Count, ListCount.Exact),
            null => new PageResult<T>(items, request.Offset + items.Count + 1, ListCount.Unknown),
            > CountCap => new PageResult<T>(items, CountCap, ListCount.Capped),
            { } exact => new PageResult<T>(items, exact, ListCount.Exact),
        };
    }

    private async Task<List<T>> ReadPageAsync<T>(NpgsqlDataSource dataSource, string where, DynamicParameters parameters, bool bounded,
        PageRequest request, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = SortsByJoinedTable(request.SortBy) ? await connection.BeginTransactionAsync(ct) : null;
        if (transaction is not null)
        {
            // Sorted by a joined table's column, a page walks that table's index and looks up the list's rows for each entry
            // until the page is full. Parallel workers each walk their own stretch ahead and the leader waits to merge them:
            // the dunning queue by customer name walked 105,000 customers so (181 ms), 2,054 without them (4 ms).
            await connection.ExecuteAsync(new CommandDefinition(
                "set local max_parallel_workers_per_gather = 0", transaction: transaction, cancellationToken: ct));
        }
        var orderBy = OrderBy(request.SortBy, request.Descending);
        var sql = bounded
            ? $"select {select} from {From(joins)} where {idColumn} = any(array({MatchingIdsInOrder(where, request)})){orderBy}"
            // A page finds its rows (and walks those it skips) with their id alone and only the joins its filters and sort
            // need, so the select list (the other joins, labels, documents) is computed for the page's rows only. Sorted by a
            // column no index walks, the ids are sorted keeping only the page's (a top-N heap): with the joins above the sort
            // the planner joined every match first, or had each parallel worker sort all its rows (the dunning queue by
            // amount: 100-400 ms for 72,000 open cases, 28 ms so).
            : $"select {select} from {From(joins)} where {idColumn} = any(array(" +
              $"select {idColumn} from {From(JoinsNeededBy(where + orderBy))}{where}{orderBy} limit {request.Limit} offset {request.Offset})){orderBy}";
        return (await connection.QueryAsync<T>(new CommandDefinition(sql, parameters, transaction, cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// The ids of a page of a bounded list (a search that found its customers, a narrow range): every matching row is
    /// fetched along the indexes its filters use, then sorted. Walking the list's order instead and filtering as it goes
    /// (what the planner picks, expecting the matches spread evenly) reads every newer row first when the matches have none
    /// of the newest rows, as after a billing run of other customers or of other totals: hundreds of thousands of rows for
    /// one page. The subquery's offset 0 keeps the planner from merging the two.
    /// </summary>
    private string MatchingIdsInOrder(string where, PageRequest request)
    {
        var (columns, direction) = Sort(request.SortBy, request.Descending);
        var sortKeys = string.Join(", ", columns.Select((column, n) => $"{column} as s{n}"));
        var orderBy = string.Join(", ", columns.Select((_, n) => $"s{n} {direction}"));
        return $"select s{columns.Length - 1} from (select {sortKeys} from {From(JoinsNeededBy(where + " " + string.Join(" ", columns)))}{where} offset 0) matching " +
               $"order by {orderBy} limit {request.Limit} offset {request.Offset}";
    }

    /// <summary>The number of matching rows up to one past the cap, or null when that takes longer than the count budget.</summary>
    private async Task<int?> CountAsync(NpgsqlDataSource dataSource, string where, DynamicParameters parameters, int cap, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            $"set local statement_timeout = {options.CountBudgetMs}", transaction: transaction, cancellationToken: ct));
        try
        {
            return await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                $"select count(*) from (select 1 from {From(JoinsNeededBy(where))}{where} " +
                $"limit {cap + 1}) capped", parameters, transaction, cancellationToken: ct));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.QueryCanceled && !ct.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Every matching row in list order, streamed (for CSV export): rows are read one at a time, never all held.</summary>
    public async IAsyncEnumerable<T> StreamAsync<T>(NpgsqlDataSource dataSource, string? sortBy, bool descending,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var (where, parameters, _, _) = await WhereClauseAsync(dataSource, ct);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var sql = $"select {select} from {From(joins)}{where}{OrderBy(sortBy, descending)}";
        await foreach (var row in connection.QueryUnbufferedAsync<T>(sql, parameters).WithCancellation(ct))
            yield return row;
    }
}
