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

    /// <summary>A new, migrated database with a unique name; dropped when disposed.</summary>
    public static async Task<MigratedDatabase> CreateMigratedAsync(string purpose)
    {
        var name = $"t_{purpose}_{Guid.NewGuid():N}".ToLowerInvariant();
        if (name.Length > 63) name = name[..63];
        await RecreateAsync(name);
        var connectionString = TestServers.ConnectionStringFor(name);
        await using (var db = NewContext(connectionString))
        {
            await db.EnsureMigrationHistoryAsync();
            await db.Database.MigrateAsync();
        }
        return new MigratedDatabase(name, connectionString);
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
