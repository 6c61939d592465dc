namespace BillingConsole.Engine;

/// <summary>
/// The engine's one notion of time, registered as its <see cref="TimeProvider"/>: the host's clock for customers without a
/// test clock, and inside <see cref="Enter"/> a frozen time: a test clock's for its customers, or a simulated instant of the
/// demo history for the customers without one. Every engine
/// service asks it for "now"; the queries that pick work (due subscriptions, retries, ladder steps, collections, emails) take
/// only the customers of <see cref="TestClockId"/>, so a pass outside a clock never touches a customer on one and a clock's
/// advance never touches anyone else.
/// </summary>
/// <remarks>
/// The frame flows with the async call (an <see cref="AsyncLocal{T}"/>), so a singleton service called inside an advance reads
/// the clock's time as a scoped one does, without a second set of services.
/// </remarks>
public sealed class EngineClock(TimeProvider host) : TimeProvider
{
    private static readonly AsyncLocal<Frame?> Current = new();

    private sealed record Frame(Guid? ClockId, DateTimeOffset Now);

    /// <summary>
    /// The test clock the work in progress is for; null for the customers without one. Queries compare it as
    /// <c>(test_clock_id = @clock or (@clock is null and test_clock_id is null))</c>: PostgreSQL folds that to
    /// <c>test_clock_id is null</c> for the customers without a clock and estimates it from the column's statistics, where
    /// <c>is not distinct from</c> was estimated at one row and sent the retry claim through every customer.
    /// </summary>
    public static Guid? TestClockId => Current.Value?.ClockId;

    /// <summary>
    /// True inside <see cref="Enter"/>: the work runs in frozen time, so whatever it would hand to a background job (which would
    /// run later, in the host's time) the caller runs itself.
    /// </summary>
    public static bool IsFrozen => Current.Value is not null;

    /// <summary>
    /// Until disposed, the engine works at <paramref name="now"/> for the customers on <paramref name="clockId"/>, or for the
    /// customers without a clock when it is null.
    /// </summary>
    public static IDisposable Enter(Guid? clockId, DateTimeOffset now)
    {
        var outer = Current.Value;
        Current.Value = new Frame(clockId, now);
        return new Exit(outer);
    }

    public override DateTimeOffset GetUtcNow() => Current.Value?.Now ?? host.GetUtcNow();

    public override TimeZoneInfo LocalTimeZone => host.LocalTimeZone;

    public override long TimestampFrequency => host.TimestampFrequency;

    public override long GetTimestamp() => host.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        host.CreateTimer(callback, state, dueTime, period);

    private sealed class Exit(Frame? outer) : IDisposable
    {
        public void Dispose() => Current.Value = outer;
    }
}
