using BillingConsole.Domain.Common;

namespace BillingConsole.Components.Shared;

/// <summary>The one way the console writes money: "$1,234.50", "-€12.00", "¥1,200".</summary>
public static class AmountsText
{
    public static string Of(decimal amount, string currency) =>
        Currencies.IsKnown(currency) ? Currencies.Format(new Money(amount, currency.ToUpperInvariant())) : $"{amount:N2} {currency}";

    /// <summary>Amounts in several currencies on one line, never added together: "$1,294.00 · €599.84".</summary>
    public static string PerCurrency(IReadOnlyDictionary<string, decimal> amounts) =>
        amounts.Count == 0 ? "nothing" : string.Join(" · ", amounts.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => Of(a.Value, a.Key)));

    public static string PerCurrency(IEnumerable<Money> amounts) =>
        PerCurrency(amounts.ToDictionary(m => m.Currency, m => m.Amount));
}
