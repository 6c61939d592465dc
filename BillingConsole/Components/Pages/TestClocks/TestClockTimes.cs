using System.Globalization;

namespace BillingConsole.Components.Pages.TestClocks;

/// <summary>How the test clock pages read a time typed in UTC, and the advance's amounts.</summary>
public static class TestClockTimes
{
    public const string FormatHint = "Type a UTC time as yyyy-MM-dd HH:mm (e.g. 2027-03-15 00:05) or a date as yyyy-MM-dd.";

    public static bool TryParse(string? text, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(text?.Trim(), ["yyyy-MM-dd HH:mm", "yyyy-MM-dd"], CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    /// <summary>The units an advance is chosen in.</summary>
    public static readonly IReadOnlyList<string> Units = ["hours", "days", "months"];

    public static DateTimeOffset Add(DateTimeOffset from, int amount, string unit) => unit switch
    {
        "hours" => from.AddHours(amount),
        "months" => from.AddMonths(amount),
        _ => from.AddDays(amount),
    };
}
