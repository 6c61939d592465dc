using Dapper;
using Npgsql;

namespace BillingConsole.Commands;

/// <summary>
/// The CPU the PostgreSQL server's processes use, when the server runs on this machine: its processes (from
/// <c>pg_stat_activity</c>) are read in /proc. A benchmark samples before and after its pass; a process started meanwhile
/// counts from zero, one that ended meanwhile is missed. The statements' time in pg_stat_statements includes waiting for a
/// core; this does not, so with the app's own CPU it says what a retry costs on a machine shared with other work.
/// </summary>
public static class DatabaseCpu
{
    /// <summary>Linux reports process times in clock ticks of 1/100 s (USER_HZ) on every architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>CPU seconds used so far by each server process; null when the server's processes are not on this machine.</summary>
    public static async Task<Dictionary<int, double>?> SampleAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var pids = await connection.QueryAsync<int>("select pid from pg_stat_activity");
        var seconds = new Dictionary<int, double>();
        foreach (var pid in pids)
            if (CpuSeconds(pid) is { } used) seconds[pid] = used;
        return seconds.Count > 0 ? seconds : null;
    }

    /// <summary>The CPU seconds the server used between two samples, or null when either was not taken.</summary>
    public static double? Between(Dictionary<int, double>? before, Dictionary<int, double>? after) =>
        before is null || after is null ? null : after.Sum(p => p.Value - before.GetValueOrDefault(p.Key));

    private static double? CpuSeconds(int pid)
    {
        try
        {
            if (File.ReadAllText($"/proc/{pid}/comm").Trim() != "postgres") return null;
            // The fields after the process name (in parentheses, which may hold spaces): utime and stime are the 14th and 15th.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
