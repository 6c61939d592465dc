namespace BillingConsole.ReadModels;

/// <summary>
/// Everything the finance dashboard shows, computed in one pass by <see cref="DashboardRefresher"/> and stored as one row,
/// so the page answers in milliseconds at any scale and can still show the last figures (with their age) when the database is away.
/// Money figures are in the reporting currency; counts cover all currencies.
/// </summary>
public sealed record DashboardFigures
{
    public DateTimeOffset ComputedAt { get; init; }
    public string ReportingCurrency { get; init; } = "USD";
    public IReadOnlyList<CurrencyAmount> MrrByCurrency { get; init; } = [];
    public decimal Mrr { get; init; }
    public decimal Arr => Mrr * 12m;
    public IReadOnlyList<MrrPoint> MrrTrend { get; init; } = [];
    public int ActiveSubscriptions { get; init; }
    public int TrialingSubscriptions { get; init; }
    public int PastDueSubscriptions { get; init; }
    public int NewThisMonth { get; init; }
    public int ChurnedVoluntaryThisMonth { get; init; }
    public int ChurnedInvoluntaryThisMonth { get; init; }
    public IReadOnlyList<StatusFigure> InvoicesByStatus { get; init; } = [];
    public IReadOnlyList<AgingBucket> ReceivablesAging { get; init; } = [];
    public int DunningQueueDepth { get; init; }
    public DateTimeOffset? OldestOpenCaseOpenedAt { get; init; }
    public double? RecoveryRate30Days { get; init; }
    public double? RecoveryRate90Days { get; init; }
    public decimal RecoveredLast90Days { get; init; }
    public decimal WrittenOffLast90Days { get; init; }
    public IReadOnlyList<DeclineFigure> FailedPaymentsByDeclineCode { get; init; } = [];
}

public sealed record CurrencyAmount(string Currency, decimal Amount);

public sealed record MrrPoint(DateOnly Month, decimal Mrr, int ActiveSubscriptions);

public sealed record StatusFigure(string Status, int Count, decimal Amount);

/// <summary>Open invoices by days past due: [FromDays, ToDays], ToDays null for the open-ended last bucket.</summary>
public sealed record AgingBucket(string Label, int FromDays, int? ToDays, int Count, decimal Amount);

public sealed record DeclineFigure(string DeclineCode, int Count, decimal Amount);
