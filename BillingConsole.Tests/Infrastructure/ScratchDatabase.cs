using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// A fresh, migrated database with a unique name on the server named by <c>ConnectionStrings__Billing</c>,
/// dropped again on dispose. Each test (or class fixture) gets data of its own.
/// </summary>
public sealed class ScratchDatabase : IAsyncDisposable
{
    public const string ConnectionStringVariable = "ConnectionStrings__Billing";

    private readonly string _serverConnectionString;

    private ScratchDatabase(string serverConnectionString, string name, string connectionString)
    {
        _serverConnectionString = serverConnectionString;
        Name = name;
        ConnectionString = connectionString;
        DataSource = NpgsqlDataSource.Create(connectionString);
    }

    public string Name { get; }
    public string ConnectionString { get; }
    public NpgsqlDataSource DataSource { get; }

    public static async Task<ScratchDatabase> CreateAsync(CancellationToken ct = default)
    {
        var server = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (string.IsNullOrWhiteSpace(server))
            throw new InvalidOperationException(
                $"Set {ConnectionStringVariable} to a PostgreSQL server the tests may create databases on, e.g. " +
                "\"Host=127.0.0.1;Port=54350;Username=billing;Database=postgres\".");

        var name = $"scratch_{DateTime.UtcNow:yyyyMMddHHmmss}_{Guid.NewGuid():N}"[..40];
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.OpenAsync(ct);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync(ct);
        }

        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
        var database = new ScratchDatabase(server, name, connectionString);
        try
        {
            await using var context = database.CreateDbContext();
            await context.Database.MigrateAsync(ct);
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
        return database;
    }

    public BillingDbContext CreateDbContext() =>
        new(BillingDbContextFactory.Configure(new DbContextOptionsBuilder<BillingDbContext>(), ConnectionString).Options);

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await using (var pooled = new NpgsqlConnection(ConnectionString)) NpgsqlConnection.ClearPool(pooled);
        await using var admin = new NpgsqlConnection(_serverConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}
