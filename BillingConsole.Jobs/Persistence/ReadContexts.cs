using BillingConsole.Persistence.Availability;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

namespace BillingConsole.Persistence;

/// <summary>
/// Contexts for reads that answer a request and change nothing (the upstream API's pages), from a pool: a request then does
/// not build the options and EF's per-context services anew, which cost as much CPU as the query itself. No tracking; the
/// read-only guard still refuses them while the database is lost; they leave out the change capture, which only saves
/// need, and a save through one throws.
/// </summary>
public sealed class ReadContexts(NpgsqlDataSource dataSource, ReadOnlyWriteGuard guard)
{
    private readonly PooledDbContextFactory<BillingDbContext> _pool = new(
        BillingDbContextOptions.Configure(new DbContextOptionsBuilder<BillingDbContext>(), dataSource)
            .UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking)
            .AddInterceptors(guard, new RefuseSaves())
            .Options);

    /// <summary>A context of the pool; disposing it gives it back.</summary>
    public BillingDbContext Rent() => _pool.CreateDbContext();

    private sealed class RefuseSaves : SaveChangesInterceptor
    {
        private const string Refusal = "A read context saves nothing: write through the scope's BillingDbContext.";

        public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result) =>
            throw new InvalidOperationException(Refusal);

        public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result,
            CancellationToken cancellationToken = default) => throw new InvalidOperationException(Refusal);
    }
}

/// <summary>How every BillingDbContext talks to PostgreSQL, the scoped ones and the pooled read ones alike.</summary>
public static class BillingDbContextOptions
{
    public static TBuilder Configure<TBuilder>(TBuilder options, NpgsqlDataSource dataSource) where TBuilder : DbContextOptionsBuilder
    {
        options.UseNpgsql(dataSource, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history")).UseSnakeCaseNamingConvention();
        return options;
    }
}
