using System.Text.Json;
using BillingConsole.Engine.Accounting;
using BillingConsole.Persistence.Availability;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>Reads the stored dashboard snapshot. It keeps the last figures it read, so a page can still show them when the database is away.</summary>
public sealed class DashboardQueries(NpgsqlDataSource dataSource, ExchangeRateQueries rates, ReadOnlyState readOnly)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private DashboardFigures? _lastRead;
    private ExchangeRates? _lastRates;

    /// <summary>The figures of the last successful read (a singleton keeps them for the whole process).</summary>
    public DashboardFigures? LastRead => _lastRead;

    /// <summary>
    /// The stored figures and the reporting currency's rates; while the database is away (read-only, or failing before the
    /// monitor noticed) the last ones read instead, marked as cached, so the page shows them with their age rather than an error.
    /// </summary>
    public async Task<DashboardRead> CurrentOrLastAsync(CancellationToken ct)
    {
        if (readOnly.IsReadOnly) return new DashboardRead(_lastRead, _lastRates, Cached: true);
        try
        {
            var figures = await CurrentAsync(ct);
            _lastRates = await rates.CurrentAsync(ct);
            return new DashboardRead(figures, _lastRates, Cached: false);
        }
        catch (NpgsqlException)
        {
            return new DashboardRead(_lastRead, _lastRates, Cached: true);
        }
    }

    private async Task<DashboardFigures?> CurrentAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("select figures::text from dashboard_snapshots where id = 1");
        if (await command.ExecuteScalarAsync(ct) is not string json) return null;
        var figures = JsonSerializer.Deserialize<DashboardFigures>(json, Json);
        _lastRead = figures;
        return figures;
    }
}

/// <param name="Rates">The reporting currency and its rates, null when none were ever read.</param>
/// <param name="Cached">True when the database could not be read and <paramref name="Figures"/> are the last ones read.</param>
public sealed record DashboardRead(DashboardFigures? Figures, ExchangeRates? Rates, bool Cached);
