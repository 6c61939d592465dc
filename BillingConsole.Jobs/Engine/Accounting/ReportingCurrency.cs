using System.Text.Json;
using BillingConsole.Domain.Common;

namespace BillingConsole.Engine.Accounting;

/// <summary>A stored rate as conversions read it: one unit of <paramref name="Base"/> is <paramref name="Rate"/> units of <paramref name="Quote"/> from that day on.</summary>
public sealed record RateQuote(string Base, string Quote, decimal Rate, DateOnly EffectiveOn);

/// <summary>
/// The reporting currency and the stored rates: totals across currencies are converted into it with the rate in force on
/// the figure's day (docs/analytics.md, "Reporting currency"). A pair entered either way round serves both directions;
/// when both directions are stored, the one that took effect later is in force.
/// </summary>
public sealed class ExchangeRates(string reportingCurrency, IReadOnlyList<RateQuote> rates)
{
    public const string SettingKey = "reporting";
    public const string DefaultCurrency = "USD";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ReportingCurrency { get; } = reportingCurrency;

    /// <summary>Every stored rate, newest day first.</summary>
    public IReadOnlyList<RateQuote> Rates { get; } = rates.OrderByDescending(r => r.EffectiveOn).ThenBy(r => r.Base).ThenBy(r => r.Quote).ToList();

    /// <summary>Units of the reporting currency per unit of <paramref name="currency"/> on <paramref name="day"/>; null when no rate is in force.</summary>
    public decimal? RateOn(string currency, DateOnly day)
    {
        if (currency == ReportingCurrency) return 1m;
        var inForce = Rates.FirstOrDefault(r => r.EffectiveOn <= day &&
            ((r.Base == currency && r.Quote == ReportingCurrency) || (r.Base == ReportingCurrency && r.Quote == currency)));
        return inForce is null ? null : inForce.Base == currency ? inForce.Rate : 1m / inForce.Rate;
    }

    /// <summary>The sum of <paramref name="amounts"/> in the reporting currency on <paramref name="day"/>, or the currencies that have no rate then.</summary>
    public ReportingTotal Total(IEnumerable<Money> amounts, DateOnly day)
    {
        var list = amounts.ToList();
        var missing = list.Select(m => m.Currency).Distinct().Where(c => RateOn(c, day) is null).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0) return new ReportingTotal(ReportingCurrency, day, null, missing);
        var sum = list.Sum(m => m.Amount * RateOn(m.Currency, day)!.Value);
        return new ReportingTotal(ReportingCurrency, day, new Money(sum, ReportingCurrency).Rounded().Amount, []);
    }

    public static string CurrencyFromJson(string? json) =>
        string.IsNullOrEmpty(json) ? DefaultCurrency : JsonSerializer.Deserialize<ReportingSetting>(json, Json)?.Currency ?? DefaultCurrency;

    public static string CurrencyToJson(string currency) => JsonSerializer.Serialize(new ReportingSetting(currency), Json);

    private sealed record ReportingSetting(string Currency);
}

/// <summary>A total in the reporting currency on a day: <see cref="Amount"/>, or null and the currencies <see cref="MissingRates"/> lacks a rate for.</summary>
public sealed record ReportingTotal(string Currency, DateOnly On, decimal? Amount, IReadOnlyList<string> MissingRates)
{
    /// <summary>What the console says instead of a total it cannot make.</summary>
    public string? MissingSentence => MissingRates.Count == 0 ? null
        : $"No total in {Currency}: no rate to {Currency} is in force on {On:yyyy-MM-dd} for {string.Join(", ", MissingRates)}. " +
          "An admin enters rates under Settings → Exchange rates; the amounts per currency are below.";
}
