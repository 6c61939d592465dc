namespace BillingConsole.ReadModels;

/// <summary>
/// Everything the finance dashboard shows, computed in one pass by <see cref="DashboardRefresher"/> and stored as one row,
/// so the page answers in milliseconds at any scale and can still show the last figures (with their age) when the database is away.
/// Amounts are per currency, never added across currencies; counts cover all currencies. Days are UTC days, as the lists
/// filter them, so a figure's drill-down lists exactly the rows the figure counts.
/// </summary>
public sealed record DashboardFigures
{
    public DateTimeOffset ComputedAt { get; init; }
    /// <summary>Active and past-due subscriptions' monthly recurring revenue, per currency.</summary>
    public IReadOnlyList<CurrencyAmount> MrrByCurrency { get; init; } = [];
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
    public IReadOnlyList<CurrencyAmount> RecoveredLast90Days { get; init; } = [];
    public IReadOnlyList<CurrencyAmount> WrittenOffLast90Days { get; init; } = [];
    public IReadOnlyList<DeclineFigure> FailedPaymentsByDeclineCode { get; init; } = [];

    /// <summary>The UTC day the figures were computed on: every window and bucket is counted from it.</summary>
    public DateOnly Today => DateOnly.FromDateTime(ComputedAt.UtcDateTime);

    /// <summary>The first day of <see cref="Today"/>'s month: "new" and "churned" this month count from it.</summary>
    public DateOnly MonthStart => new(Today.Year, Today.Month, 1);

    /// <summary>The first day of the failed payments' window: the last <see cref="DeclineWindowDays"/> days, today included.</summary>
    public DateOnly DeclinesFrom => Today.AddDays(1 - DeclineWindowDays);

    public const int DeclineWindowDays = 30;
}

public sealed record CurrencyAmount(string Currency, decimal Amount);

public sealed record MrrPoint(DateOnly Month, string Currency, decimal Mrr, int ActiveSubscriptions);

/// <summary>Invoices in one status, all currencies; <see cref="Amounts"/> per currency: what is owed for open invoices, the invoiced total for the others.</summary>
public sealed record StatusFigure(string Status, int Count, IReadOnlyList<CurrencyAmount> Amounts);

/// <summary>
/// Open invoices in one currency whose due date lies [FromDays, ToDays] UTC days before the day of the figures (both
/// inclusive; null is open-ended). Days past due are counted in whole days: an invoice due today is 0 days past due, one
/// due tomorrow -1 (not yet due).
/// </summary>
public sealed record AgingBucket(string Label, int? FromDays, int? ToDays, string Currency, int Count, decimal Amount)
{
    public bool Contains(int daysPastDue) => (FromDays is not { } from || daysPastDue >= from) && (ToDays is not { } to || daysPastDue <= to);

    /// <summary>The first due date in the bucket, or null when it has no oldest end.</summary>
    public DateOnly? DueFrom(DateOnly today) => ToDays is { } to ? today.AddDays(-to) : null;

    /// <summary>The last due date in the bucket, or null when it has no newest end.</summary>
    public DateOnly? DueTo(DateOnly today) => FromDays is { } from ? today.AddDays(-from) : null;

    /// <summary>The buckets every currency is aged in, newest first.</summary>
    public static readonly IReadOnlyList<(string Label, int? FromDays, int? ToDays)> Ranges =
    [
        ("Not yet due", null, -1),
        ("0–30 days", 0, 30),
        ("31–60 days", 31, 60),
        ("61–90 days", 61, 90),
        ("90+ days", 91, null),
    ];

    /// <summary>
    /// Each currency's open invoices in the buckets, from their count and amount owed per (currency, days past due);
    /// every bucket of a currency that owes anything, empty ones included, so the rows line up.
    /// </summary>
    public static IReadOnlyList<AgingBucket> Age(IEnumerable<(string Currency, int DaysPastDue, int Count, decimal Amount)> owed) =>
        owed.GroupBy(o => o.Currency).OrderBy(g => g.Key, StringComparer.Ordinal)
            .SelectMany(currency => Ranges.Select(range =>
            {
                var bucket = new AgingBucket(range.Label, range.FromDays, range.ToDays, currency.Key, 0, 0m);
                var inside = currency.Where(o => bucket.Contains(o.DaysPastDue)).ToList();
                return bucket with { Count = inside.Sum(o => o.Count), Amount = inside.Sum(o => o.Amount) };
            }))
            .ToList();
}

/// <summary>Failed charges with one decline code in the window, all currencies; <see cref="Amounts"/> per currency.</summary>
public sealed record DeclineFigure(string DeclineCode, int Count, IReadOnlyList<CurrencyAmount> Amounts);
