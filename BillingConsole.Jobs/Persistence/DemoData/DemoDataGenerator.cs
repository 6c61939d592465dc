using System.Diagnostics;
using BillingConsole.Configuration;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BillingConsole.Persistence.DemoData;

/// <summary>
/// Fills an empty billing database with a deterministic history made by the engine itself: a seeded script of customer
/// behaviour (<see cref="DemoScript"/>) is played through the engine's commands and passes over simulated months
/// (<see cref="DemoHistory"/>); with --scale the played customers are then copied up to the count asked
/// (<see cref="DemoReplicator"/>); then the engine's MRR recording and the analytics folds run as their jobs would. The same
/// options always give the same figures. Registered only when the host is asked to seed (<see cref="DemoDataExtensions"/>).
/// </summary>
public sealed class DemoDataGenerator(IServiceScopeFactory scopes, NpgsqlDataSource dataSource, MrrRecorder mrr, RevenueRecognitionRecorder recognition,
    DunningCaseFactsRecorder dunningCaseFacts, DemoReplicator replicator, GatewayRouter gateway, IOptions<BillingOptions> billing, IOptions<EmailOptions> emails,
    ILogger<DemoDataGenerator> logger)
{
    /// <summary>True when the database has no customers, i.e. demo data may be written.</summary>
    public static async Task<bool> IsDatabaseEmptyAsync(NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        await using var command = dataSource.CreateCommand("select not exists (select 1 from customers)");
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    public async Task<DemoDataSummary> GenerateAsync(DemoDataOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (gateway.Name != SandboxGateway.GatewayName)
            throw new InvalidOperationException($"Demo data is played through the sandbox gateway; the gateway mode is {gateway.Name}, which would charge its cards for real.");
        if (!await IsDatabaseEmptyAsync(dataSource, ct))
            throw new InvalidOperationException("The database already has customers; demo data is only written to an empty database.");

        var clock = Stopwatch.StartNew();
        var end = options.Now.UtcDateTime;
        var start = new DateTime(end.Year, end.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(-(options.MonthsOfHistory - 1));
        var script = new DemoScript(options.Seed, options.PlayedCustomers, start, end, oneSubscriptionEach: !options.AllowsReturningCustomers);
        logger.LogInformation("Demo data: playing {Customers} customers over {Months} months up to {Now:u} through the engine (seed {Seed})",
            options.PlayedCustomers, options.MonthsOfHistory, end, options.Seed);
        var play = await new DemoHistory(scopes, billing.Value, emails.Value, options.Seed, logger).PlayAsync(script, ct);
        logger.LogInformation("Demo data: history played in {Elapsed:0.0} s ({Steps} steps, {Moves} customer moves, {Refused} refused by the engine)",
            clock.Elapsed.TotalSeconds, play.Steps, play.Moves, play.MovesRefused);

        if (options.Subscriptions is { } scale && scale > options.PlayedCustomers)
            await replicator.ReplicateAsync(new DemoReplicaOptions { Customers = scale, Seed = options.Seed }, ct);

        await mrr.RecordAsync(options.Now, ct);
        var folded = await recognition.FoldAsync(ct) + await dunningCaseFacts.FoldAsync(ct);
        logger.LogInformation("Demo data: folded {Changes} invoice and dunning case changes into the analytics' tables", folded);
        await using (var analyze = dataSource.CreateCommand("analyze"))
        {
            await analyze.ExecuteNonQueryAsync(ct);
        }

        var summary = new DemoDataSummary
        {
            RowCounts = await CountRowsAsync(ct),
            Totals = await LedgerBalancesAsync(ct),
            Steps = play.Steps,
            Moves = play.Moves,
            MovesRefused = play.MovesRefused,
            Elapsed = clock.Elapsed,
        };
        logger.LogInformation("Demo data written in {Elapsed:0.0} s: {Rows} rows ({Customers} customers, {Invoices} invoices, {Ledger} ledger entries)",
            summary.Elapsed.TotalSeconds, summary.RowCounts.Values.Sum(), summary.Count("customers"), summary.Count("invoices"),
            summary.Count("ledger_entries"));
        return summary;
    }

    /// <summary>Exact row counts of the product's tables (not Hangfire's or the migration history).</summary>
    private async Task<IReadOnlyDictionary<string, long>> CountRowsAsync(CancellationToken ct)
    {
        var tables = new List<string>();
        await using (var list = dataSource.CreateCommand("""
            select table_name from information_schema.tables
            where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like '\_\_%' order by table_name
            """))
        await using (var reader = await list.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) tables.Add(reader.GetString(0));
        }
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        await using var count = dataSource.CreateCommand(string.Join(" union all ",
            tables.Select(table => $"select '{table}', count(*) from \"{table}\"")));
        await using var rows = await count.ExecuteReaderAsync(ct);
        while (await rows.ReadAsync(ct)) counts[rows.GetString(0)] = rows.GetInt64(1);
        return counts;
    }

    private async Task<IReadOnlyList<DemoLedgerBalance>> LedgerBalancesAsync(CancellationToken ct)
    {
        var balances = new List<DemoLedgerBalance>();
        await using var command = dataSource.CreateCommand("""
            select currency, account, sum(debit) - sum(credit) from ledger_entries group by currency, account order by currency, account
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) balances.Add(new DemoLedgerBalance(reader.GetString(0).Trim(), reader.GetString(1), reader.GetDecimal(2)));
        return balances;
    }
}
