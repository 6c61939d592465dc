using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using BillingConsole.Persistence.DemoData;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// Databases holding a demo population. The engine plays each distinct set of options once per run, into a template
/// database; every test that asks for the same options gets a copy of it (CREATE DATABASE … TEMPLATE), which takes a second
/// where playing the history takes tens.
/// </summary>
public static class DemoDatabases
{
    /// <summary>
    /// The population the engine tests share: 300 customers played over 18 months up to <see cref="EngineServices.DefaultNow"/>,
    /// copied up to 600 subscriptions (the --scale path).
    /// </summary>
    public static readonly DemoDataOptions Standard = new() { Seed = 7, Subscriptions = 600, ScaleBase = 300, Now = EngineServices.DefaultNow };

    private static readonly ConcurrentDictionary<DemoDataOptions, Lazy<Task<(string Template, DemoDataSummary Summary)>>> Templates = new();

    /// <param name="name">The database's name; left out, a unique one. A database of that name is dropped first.</param>
    public static async Task<(MigratedDatabase Database, DemoDataSummary Summary)> CreateAsync(string purpose, DemoDataOptions options, string? name = null)
    {
        var (template, summary) = await Templates.GetOrAdd(options, o => new Lazy<Task<(string, DemoDataSummary)>>(() => PlayAsync(o))).Value;
        if (name is null)
        {
            name = $"t_{purpose}_{Guid.NewGuid():N}".ToLowerInvariant();
            if (name.Length > 63) name = name[..63];
        }
        else
        {
            await TestDatabases.DropAsync(name);
        }
        await using (var connection = new NpgsqlConnection(TestServers.PostgresAdminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"create database \"{name}\" template \"{template}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        return (new MigratedDatabase(name, TestServers.ConnectionStringFor(name)), summary);
    }

    /// <summary>Plays the options into a fresh migrated database on the engine (no jobs running), at their "now".</summary>
    public static async Task<DemoDataSummary> GenerateAsync(MigratedDatabase database, DemoDataOptions options)
    {
        await using var engine = EngineServices.Create(database, new FakeTimeProvider(options.Now));
        return await engine.Get<DemoDataGenerator>().GenerateAsync(options, CancellationToken.None);
    }

    private static async Task<(string, DemoDataSummary)> PlayAsync(DemoDataOptions options)
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(options.ToString())))[..12];
        var template = $"t_demo_template_{key}";
        await TestDatabases.DropAsync(template);
        var database = await TestDatabases.CreateMigratedAsync("demo_template");
        var summary = await GenerateAsync(database, options);
        await database.DataSource.DisposeAsync();
        // PostgreSQL copies a database only while nobody is connected to it.
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(TestServers.PostgresAdminConnectionString);
        await connection.OpenAsync();
        await using var rename = new NpgsqlCommand($"alter database \"{database.Name}\" rename to \"{template}\"", connection);
        await rename.ExecuteNonQueryAsync();
        return (template, summary);
    }
}
