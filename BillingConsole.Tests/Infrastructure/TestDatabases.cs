using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Tests.Infrastructure;

public static class TestDatabases
{
    /// <summary>Drops the database if it exists and creates it empty (no schema).</summary>
    public static async Task RecreateAsync(string database)
    {
        await using var connection = new NpgsqlConnection(TestServers.PostgresAdminConnectionString);
        await connection.OpenAsync();
        await using (var drop = new NpgsqlCommand($"drop database if exists \"{database}\" with (force)", connection))
            await drop.ExecuteNonQueryAsync();
        await using var create = new NpgsqlCommand($"create database \"{database}\"", connection);
        await create.ExecuteNonQueryAsync();
    }

    public static async Task DropAsync(string database)
    {
        await using var connection = new NpgsqlConnection(TestServers.PostgresAdminConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop database if exists \"{database}\" with (force)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>The run's migrated database that every <see cref="CreateMigratedAsync"/> copies.</summary>
    public const string TemplateDatabase = "t_migrated_template";

    private static readonly SemaphoreSlim TemplateLock = new(1, 1);
    private static bool _templateMigrated;

    /// <summary>
    /// A new, migrated database with a unique name; dropped when disposed. It is a copy of <see cref="TemplateDatabase"/>,
    /// migrated once per run: copying takes a fraction of the time of running every migration again.
    /// </summary>
    public static async Task<MigratedDatabase> CreateMigratedAsync(string purpose)
    {
        var name = $"t_{purpose}_{Guid.NewGuid():N}".ToLowerInvariant();
        if (name.Length > 63) name = name[..63];
        await MigrateTemplateOnceAsync();
        await using (var connection = new NpgsqlConnection(TestServers.PostgresAdminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"create database \"{name}\" template \"{TemplateDatabase}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new MigratedDatabase(name, TestServers.ConnectionStringFor(name));
    }

    private static async Task MigrateTemplateOnceAsync()
    {
        await TemplateLock.WaitAsync();
        try
        {
            if (_templateMigrated) return;
            await RecreateAsync(TemplateDatabase);
            // PostgreSQL copies a database only while nobody is connected to it: migrate without a pool, so no connection stays.
            var unpooled = new NpgsqlConnectionStringBuilder(TestServers.ConnectionStringFor(TemplateDatabase)) { Pooling = false };
            await using (var db = NewContext(unpooled.ConnectionString))
            {
                await db.EnsureMigrationHistoryAsync();
                await db.Database.MigrateAsync();
            }
            _templateMigrated = true;
        }
        finally
        {
            TemplateLock.Release();
        }
    }

    public static BillingDbContext NewContext(string connectionString) =>
        new(BillingDbContextFactory.Configure(new DbContextOptionsBuilder<BillingDbContext>(), connectionString).Options);
}

public sealed class MigratedDatabase(string name, string connectionString) : IAsyncDisposable
{
    public string Name { get; } = name;
    public string ConnectionString { get; } = connectionString;
    public NpgsqlDataSource DataSource { get; } = NpgsqlDataSource.Create(connectionString);

    public BillingDbContext NewContext() => TestDatabases.NewContext(ConnectionString);

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await TestDatabases.DropAsync(Name);
    }
}
