using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Catalog;

public enum PriceMigrationStatus { Queued, Running, Completed }

/// <summary>When the subscribers move: at their next renewal (no proration), or now with a prorated plan-change invoice each.</summary>
public enum PriceMigrationTiming { AtRenewal, Now }

/// <summary>
/// Moves the subscribers of one price to another, at their next renewal or now, as a background job that reports its progress.
/// The count and MRR change shown before it starts are kept with it, so the record says what was expected and what was done.
/// </summary>
public sealed class PriceMigration : Entity
{
    private PriceMigration() { }

    public PriceMigration(Guid fromPriceId, Guid toPriceId, PriceMigrationTiming timing, int expected, decimal mrrChange, string currency,
        string requestedBy, DateTimeOffset at)
    {
        if (fromPriceId == toPriceId) throw new DomainRuleException("A price migration moves subscribers to another price.");
        FromPriceId = fromPriceId;
        ToPriceId = toPriceId;
        Timing = timing;
        Expected = expected;
        ExpectedMrrChange = mrrChange;
        Currency = currency;
        RequestedBy = requestedBy;
        CreatedAt = at;
        Status = PriceMigrationStatus.Queued;
    }

    public Guid FromPriceId { get; private set; }
    public Guid ToPriceId { get; private set; }
    public PriceMigrationTiming Timing { get; private set; }
    public PriceMigrationStatus Status { get; private set; }
    /// <summary>Subscribers counted by the preview.</summary>
    public int Expected { get; private set; }
    /// <summary>The change of monthly recurring revenue the preview showed, in <see cref="Currency"/>.</summary>
    public decimal ExpectedMrrChange { get; private set; }
    public string Currency { get; private set; } = "USD";
    /// <summary>Subscriptions moved (or scheduled to move) onto the new price so far.</summary>
    public int Moved { get; private set; }
    /// <summary>Subscriptions a move now was refused for (the reason is logged); they keep the old price.</summary>
    public int Skipped { get; private set; }
    public string RequestedBy { get; private set; } = string.Empty;
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset? FinishedAt { get; private set; }

    public void Start()
    {
        if (Status != PriceMigrationStatus.Queued) throw new DomainRuleException($"A {Status.ToSnakeCase()} price migration cannot start.");
        Status = PriceMigrationStatus.Running;
    }

    /// <param name="moved">Every subscription the batches moved, counted by the job.</param>
    /// <param name="skipped">Every subscription a move was refused for.</param>
    public void Complete(int moved, int skipped, DateTimeOffset at)
    {
        if (Status != PriceMigrationStatus.Running) throw new DomainRuleException($"A {Status.ToSnakeCase()} price migration cannot complete.");
        Status = PriceMigrationStatus.Completed;
        Moved = moved;
        Skipped = skipped;
        FinishedAt = at;
    }
}
