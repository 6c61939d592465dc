// Placeholder until the demo data generator lands (it replaces this file).
using Microsoft.Extensions.Logging;
using Npgsql;
namespace BillingConsole.Persistence.DemoData;
public sealed class DemoDataGenerator(NpgsqlDataSource dataSource, ILogger<DemoDataGenerator> logger)
{
    public Task<DemoDataSummary> GenerateAsync(DemoDataOptions options, CancellationToken ct) { logger.LogInformation("{D}", dataSource); return Task.FromResult(new DemoDataSummary()); }
    public static Task<bool> IsDatabaseEmptyAsync(NpgsqlDataSource dataSource) => Task.FromResult(dataSource is null);
}
public sealed class DemoDataOptions { public int Seed { get; init; } = 42; public int Customers { get; init; } = 3000; public int? Subscriptions { get; init; } public DateTimeOffset Now { get; init; } }
public sealed record DemoDataSummary;
