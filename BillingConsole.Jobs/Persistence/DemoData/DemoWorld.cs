using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Engine;

namespace BillingConsole.Persistence.DemoData;

/// <summary>
/// The fixed frame every customer's history is simulated in: when the business opened, "now", the catalog, the dunning
/// policy, and how customers are split into chunks. Billing runs at 00:05 UTC (the billing time zone) every day.
/// </summary>
internal sealed class DemoWorld
{
    public const int PolicyVersion = 1;
    public static readonly TimeSpan BillingRunTimeOfDay = TimeSpan.FromMinutes(5);

    public DemoWorld(DemoDataOptions options)
    {
        Seed = options.Seed;
        Now = options.Now.UtcDateTime;
        Months = options.MonthsOfHistory;
        Start = new DateTime(Now.Year, Now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(-(Months - 1));
        DayCount = (Now.Date - Start).Days + 1;
        CustomerCount = options.CustomerCount;
        AllowsReturningCustomers = options.AllowsReturningCustomers;
        ChunkSize = Math.Clamp(CustomerCount / 8, 50, 1000);
        ChunkCount = (CustomerCount + ChunkSize - 1) / ChunkSize;
    }

    public int Seed { get; }
    public DateTime Now { get; }
    public DateTime Start { get; }
    public int Months { get; }
    public int DayCount { get; }
    public int CustomerCount { get; }
    public bool AllowsReturningCustomers { get; }
    public int ChunkSize { get; }
    public int ChunkCount { get; }
    public DemoCatalog Catalog { get; } = new();
    /// <summary>The engine's own calendar, so demo periods follow the rules the billing run renews them by.</summary>
    public BillingCalendar Calendar { get; } = new(TimeZoneInfo.Utc);
    public DunningPolicySettings Policy { get; } = DunningPolicySettings.Default;

    public int DayOf(DateTime at) => (int)((at - Start).Ticks / TimeSpan.TicksPerDay);

    /// <summary>When the day's billing run started; today's, if it is not yet 00:05, is taken to run right now.</summary>
    public DateTime BillingRunAt(int day)
    {
        var at = Start.AddDays(day) + BillingRunTimeOfDay;
        return at < Now ? at : Now;
    }

    public Guid BillingRunId(int day) => DeterministicGuid.For($"demo-billing-run:{Start.AddDays(day):yyyy-MM-dd}");

    public int MonthOf(DateTime at) => (at.Year - Start.Year) * 12 + at.Month - Start.Month;

    public DateTime MonthStart(int month) => Start.AddMonths(month);

    public (int First, int Count) Chunk(int chunk)
    {
        var first = chunk * ChunkSize;
        return (first, Math.Min(ChunkSize, CustomerCount - first));
    }
}
