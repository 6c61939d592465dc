using System.Net.Sockets;
using BillingConsole.Configuration;
using BillingConsole.Engine;
using BillingConsole.Engine.Events;
using BillingConsole.Persistence.DemoData;
using BillingConsole.ReadModels;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.Persistence;

/// <summary>Brings the database to the current schema at start-up and, when asked, fills an empty one with demo data.</summary>
public sealed class DatabaseStartup(IServiceProvider services, NpgsqlDataSource dataSource, IOptions<BillingOptions> billing, TimeProvider clock,
    ILogger<DatabaseStartup> logger)
{
    public async Task PrepareAsync(DemoSeedRequest? seed, CancellationToken ct)
    {
        await EnsureReachableAsync(ct);
        using (var scope = services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
            await db.EnsureMigrationHistoryAsync(ct);
            var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
            if (pending.Count > 0)
            {
                logger.LogInformation("Applying {Count} database migrations: {Migrations}", pending.Count, string.Join(", ", pending));
                await db.MigrateWithBillingTimeZoneAsync(BillingEngineExtensions.TryFindTimeZone(billing.Value.TimeZone) ?? TimeZoneInfo.Utc, ct);
            }
        }
        await services.GetRequiredService<EndpointSecrets>().SealStoredInClearAsync(ct);

        if (seed is null) return;
        if (!await DemoDataGenerator.IsDatabaseEmptyAsync(dataSource))
        {
            logger.LogInformation("The database already holds data; demo data not generated (run with --reset to start over)");
            return;
        }

        var now = clock.GetUtcNow();
        var options = new DemoDataOptions { Now = now, Subscriptions = seed.Scale };
        // The generator logs what it wrote.
        await services.GetRequiredService<DemoDataGenerator>().GenerateAsync(options, ct);
        using var refreshScope = services.CreateScope();
        await refreshScope.ServiceProvider.GetRequiredService<DashboardRefresher>().RefreshAsync(ct);
    }

    private async Task EnsureReachableAsync(CancellationToken ct)
    {
        var target = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            throw new StartupException(
                $"PostgreSQL at {target.Host}:{target.Port} (ConnectionStrings:Billing) cannot be reached: {Describe(e)}.", e);
        }
    }

    private static string Describe(Exception e) => (e.InnerException ?? e).Message.TrimEnd('.');
}

/// <summary>Asked for by --seed-demo [--scale N].</summary>
public sealed record DemoSeedRequest(int? Scale);

public static class MigrationHistory
{
    /// <summary>
    /// Creates EF's migration history table if missing, so that on a new database EF does not log its query of the missing
    /// table as an error before migrating.
    /// </summary>
    public static Task<bool> EnsureMigrationHistoryAsync(this BillingDbContext db, CancellationToken ct = default) =>
        db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(ct);

    /// <summary>The PostgreSQL setting through which data migrations read the billing time zone; they take UTC without it.</summary>
    public const string BillingTimeZoneSetting = "billing.time_zone";

    /// <summary>
    /// Applies the pending migrations on one connection that carries <see cref="BillingTimeZoneSetting"/>, since a data
    /// migration on local dates (such as RepairBillingAnchorDays) must see the zone billing periods are computed in.
    /// </summary>
    public static async Task MigrateWithBillingTimeZoneAsync(this BillingDbContext db, TimeZoneInfo billingTimeZone, CancellationToken ct = default)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await db.Database.ExecuteSqlAsync($"select set_config({BillingTimeZoneSetting}, {billingTimeZone.Id}, false)", ct);
            await db.Database.MigrateAsync(ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
