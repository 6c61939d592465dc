using Npgsql;

namespace BillingConsole.Persistence.Availability;

/// <summary>Tells a lost or refused connection to PostgreSQL apart from a statement PostgreSQL refused.</summary>
public static class DatabaseConnectionLoss
{
    /// <summary>
    /// True when the exception, or one it wraps, says PostgreSQL could not be reached, dropped the connection, is shutting
    /// down or takes no more connections. A constraint, a deadlock or a syntax error is the statement's own problem: false.
    /// </summary>
    public static bool Is(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException postgres:
                    return postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
                        || postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
                            or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections;
                case NpgsqlException:
                    return true;
            }
        }
        return false;
    }
}
