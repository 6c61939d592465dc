namespace BillingConsole.Persistence;

public static class StoredTime
{
    /// <summary>
    /// Now, at the precision PostgreSQL stores (microseconds; .NET ticks are 100 ns), so that an answer given before saving
    /// shows the same instants as every later read, and a quote's time sent back by a caller is the time it was priced at.
    /// </summary>
    public static DateTimeOffset GetStoredNow(this TimeProvider clock) => Truncate(clock.GetUtcNow());

    public static DateTimeOffset Truncate(DateTimeOffset instant) => instant.AddTicks(-(instant.Ticks % TimeSpan.TicksPerMicrosecond));
}
