using Dapper;
using Npgsql;

namespace BillingConsole.Commands;

/// <summary>The database's own account of a benchmark: calls and time per statement, from pg_stat_statements when the server loads it.</summary>
public static class StatementStatistics
{
    public sealed record Statement(long Calls, double TotalMs, string Query);

    /// <summary>Clears the statistics so they cover what follows; false when the server does not load pg_stat_statements.</summary>
    public static async Task<bool> ResetAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        if (!await connection.ExecuteScalarAsync<bool>("select current_setting('shared_preload_libraries') like '%pg_stat_statements%'")) return false;
        await connection.ExecuteAsync("create extension if not exists pg_stat_statements");
        await connection.ExecuteAsync("select pg_stat_statements_reset()");
        return true;
    }

    public static async Task<IReadOnlyList<Statement>> TopAsync(NpgsqlDataSource dataSource, int count)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var top = await connection.QueryAsync<Statement>("""
            select calls as "Calls", total_exec_time as "TotalMs", left(regexp_replace(query, '\s+', ' ', 'g'), 110) as "Query"
            from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
            order by total_exec_time desc limit @count
            """, new { count });
        return [.. top];
    }
}
