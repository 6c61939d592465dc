namespace BillingConsole.Persistence.DemoData;

/// <summary>What the demo data generator should produce. The same options always produce the same data.</summary>
public sealed record DemoDataOptions
{
    /// <summary>Seeds every random choice.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>How many customers sign up over the history (a few returning customers start a second subscription).</summary>
    public int Customers { get; init; } = 2000;

    /// <summary>
    /// The --scale N switch: exactly N subscriptions, one per customer (<see cref="Customers"/> is then ignored and nobody returns
    /// for a second subscription). The engine plays the history of the first <see cref="ScaleBase"/> of them; the rest are
    /// copies of those (<see cref="DemoReplicator"/>).
    /// </summary>
    public int? Subscriptions { get; init; }

    /// <summary>With <see cref="Subscriptions"/>: how many customers the engine plays before they are copied up to the count.</summary>
    public int ScaleBase { get; init; } = 2000;

    /// <summary>Calendar months of history, the current month included; the business opened on the first day of the first one.</summary>
    public int MonthsOfHistory { get; init; } = 18;

    /// <summary>The instant the history ends at. Required: the generator never reads the clock.</summary>
    public DateTimeOffset Now { get; init; }

    /// <summary>The customers whose history the engine plays.</summary>
    internal int PlayedCustomers => Subscriptions is { } scale ? Math.Min(scale, ScaleBase) : Customers;

    internal bool AllowsReturningCustomers => Subscriptions is null;

    internal void Validate()
    {
        if (Now == default) throw new ArgumentException("Set DemoDataOptions.Now: the generator never reads the clock.");
        if (PlayedCustomers < 1) throw new ArgumentException("Generate at least one customer.");
        if (MonthsOfHistory is < 1 or > 120) throw new ArgumentException("MonthsOfHistory must be between 1 and 120.");
    }
}
