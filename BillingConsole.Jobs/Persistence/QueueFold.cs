using Npgsql;

namespace BillingConsole.Persistence;

/// <summary>
/// Runs a fold statement (one that takes up to <c>@batch</c> changes off a queue, writes what they change and returns how
/// many it took) a transaction per batch until the queue is empty, each under the fold's advisory lock, so one fold of a
/// queue runs at a time across nodes.
/// </summary>
internal static class QueueFold
{
    public const int BatchSize = 50_000;

    public static async Task<int> RunAsync(NpgsqlDataSource dataSource, string foldSql, long advisoryLock, CancellationToken ct)
    {
        var folded = 0;
        while (true)
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using (var lockCommand = new NpgsqlCommand("select pg_advisory_xact_lock(@key)", connection, transaction))
            {
                lockCommand.Parameters.AddWithValue("key", advisoryLock);
                await lockCommand.ExecuteNonQueryAsync(ct);
            }
            // A fold of a million changes (the demo data's, a month-end run's) outlasts the default command timeout.
            await using var fold = new NpgsqlCommand(foldSql, connection, transaction) { CommandTimeout = 0 };
            fold.Parameters.AddWithValue("batch", BatchSize);
            var taken = (int)(await fold.ExecuteScalarAsync(ct))!;
            await transaction.CommitAsync(ct);
            folded += taken;
            if (taken < BatchSize) return folded;
        }
    }
}
