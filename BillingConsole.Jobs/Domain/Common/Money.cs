using System.Globalization;

namespace BillingConsole.Domain.Common;

/// <summary>
/// An amount of one currency. Arithmetic between two currencies throws; rounding is half away from zero
/// to the currency's minor unit, applied per line (see README, "Money and rounding").
/// </summary>
public readonly record struct Money
{
    public decimal Amount { get; }
    public string Currency { get; }

    public Money(decimal amount, string currency)
    {
        Currency = Currencies.Normalize(currency);
        Amount = amount;
    }

    public static Money Zero(string currency) => new(0m, currency);

    public bool IsZero => Amount == 0m;
    public bool IsNegative => Amount < 0m;
    public bool IsPositive => Amount > 0m;

    /// <summary>An amount a person or a caller gave, refused when it has more decimals than the currency's minor unit.</summary>
    public static Money Exact(decimal amount, string currency)
    {
        var money = new Money(amount, currency);
        if (money.Rounded() != money) throw new DomainRuleException($"{money.Currency} amounts have {Currencies.MinorUnits(money.Currency)} decimals at most.");
        return money;
    }

    public Money Rounded() => new(Math.Round(Amount, Currencies.MinorUnits(Currency), MidpointRounding.AwayFromZero), Currency);

    public static Money operator +(Money left, Money right) => new(left.Amount + SameCurrency(left, right).Amount, left.Currency);
    public static Money operator -(Money left, Money right) => new(left.Amount - SameCurrency(left, right).Amount, left.Currency);
    public static Money operator -(Money value) => new(-value.Amount, value.Currency);
    public static Money operator *(Money left, decimal factor) => new(left.Amount * factor, left.Currency);
    public static bool operator <(Money left, Money right) => left.Amount < SameCurrency(left, right).Amount;
    public static bool operator >(Money left, Money right) => left.Amount > SameCurrency(left, right).Amount;
    public static bool operator <=(Money left, Money right) => left.Amount <= SameCurrency(left, right).Amount;
    public static bool operator >=(Money left, Money right) => left.Amount >= SameCurrency(left, right).Amount;

    public static Money Min(Money left, Money right) => left <= right ? left : right;
    public static Money Max(Money left, Money right) => left >= right ? left : right;

    private static Money SameCurrency(Money left, Money right) =>
        left.Currency == right.Currency
            ? right
            : throw new InvalidOperationException($"Cannot combine {left.Currency} with {right.Currency}.");

    public override string ToString() => Currencies.Format(this, CultureInfo.InvariantCulture);
}

/// <summary>The currencies the product bills in, with their ISO 4217 minor units.</summary>
public static class Currencies
{
    private static readonly Dictionary<string, (int MinorUnits, string Symbol)> Known = new()
    {
        ["USD"] = (2, "$"),
        ["EUR"] = (2, "€"),
        ["GBP"] = (2, "£"),
        ["CAD"] = (2, "CA$"),
        ["AUD"] = (2, "A$"),
        ["CHF"] = (2, "CHF "),
        ["JPY"] = (0, "¥"),
    };

    public static IReadOnlyCollection<string> All => Known.Keys;

    public static bool IsKnown(string? code) => code is not null && Known.ContainsKey(code.ToUpperInvariant());

    public static string Normalize(string currency)
    {
        var code = (currency ?? string.Empty).Trim().ToUpperInvariant();
        return Known.ContainsKey(code) ? code : throw new ArgumentException($"Unknown currency '{currency}'.", nameof(currency));
    }

    public static int MinorUnits(string currency) => Known[Normalize(currency)].MinorUnits;

    /// <summary>"$1,234.50", "-€12.00", "¥1,200": symbol, grouped digits, the currency's minor units.</summary>
    public static string Format(Money money, IFormatProvider? provider = null)
    {
        var (minor, symbol) = Known[money.Currency];
        var digits = Math.Abs(money.Amount).ToString("N" + minor, provider ?? CultureInfo.InvariantCulture);
        return (money.Amount < 0 ? "-" : string.Empty) + symbol + digits;
    }
}
