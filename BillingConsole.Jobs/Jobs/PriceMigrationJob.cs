using BillingConsole.Engine.Commands;
using Hangfire;

namespace BillingConsole.Jobs;

/// <summary>Runs one price migration an admin started from the catalog.</summary>
public sealed class PriceMigrationJob(PriceMigrations migrations)
{
    public const string Queue = "default";

    // Reentrant: a rerun goes on with the subscribers not moved yet, so Hangfire may retry it.
    [AutomaticRetry(Attempts = 3)]
    public Task RunAsync(Guid migrationId, CancellationToken ct) => migrations.RunAsync(migrationId, ct);
}
