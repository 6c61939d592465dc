namespace BillingConsole.Components.Shared;

public static class AmountsText
{
    /// <summary>Amounts in several currencies on one line, never added together: "1,294.00 USD · 599.84 EUR".</summary>
    public static string PerCurrency(IReadOnlyDictionary<string, decimal> amounts) =>
        amounts.Count == 0 ? "0.00" : string.Join(" · ", amounts.Select(a => $"{a.Value:N2} {a.Key}"));

    public static string PerCurrency(IEnumerable<BillingConsole.Domain.Common.Money> amounts) =>
        PerCurrency(amounts.ToDictionary(m => m.Currency, m => m.Amount));
}
