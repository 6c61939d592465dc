using System.Text.Json;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>Reads the stored dashboard snapshot. It keeps the last figures it read, so a page can still show them when the database is away.</summary>
public sealed class DashboardQueries(NpgsqlDataSource dataSource)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private DashboardFigures? _lastRead;

    /// <summary>The figures of the last successful read (a singleton keeps them for the whole process).</summary>
    public DashboardFigures? LastRead => _lastRead;

    public async Task<DashboardFigures?> CurrentAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("select figures::text from dashboard_snapshots where id = 1");
        if (await command.ExecuteScalarAsync(ct) is not string json) return null;
        var figures = JsonSerializer.Deserialize<DashboardFigures>(json, Json);
        _lastRead = figures;
        return figures;
    }
}
