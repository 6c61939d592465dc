using System.Globalization;
using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Tax;

/// <summary>
/// A tax rate in force in a country, or in one region of it, from a date on. A later rule for the same place replaces it from
/// its own date; a region's rule wins over its country's.
/// </summary>
/// <param name="Country">ISO 3166 alpha-2, in capitals.</param>
/// <param name="Region">A subdivision with a rate of its own (a Canadian province, a US state); null for the whole country.</param>
/// <param name="Rate">A fraction: 0.19 is 19 %.</param>
/// <param name="From">The first day (of an invoice line's period) the rate applies to.</param>
public sealed record TaxRule(string Country, string? Region, decimal Rate, DateOnly From)
{
    public string Place => Region is null ? Country : $"{Country}-{Region}";
}

/// <summary>What an invoice line owes: its rate, and whether the customer accounts for the VAT instead (rate 0).</summary>
public sealed record LineTax(decimal Rate, bool ReverseCharge);

/// <summary>Who is taxed: the billing address's country and region, and the tax number the customer gave.</summary>
public sealed record TaxPayer(string Country, string? Region, string? TaxId);

/// <summary>
/// The tax rules an admin keeps, with the seller's country (which decides reverse charge). Places without a rule pay the
/// fallback rate of the Billing settings. Every change is a new version (<see cref="TaxTableVersion"/>).
/// </summary>
public sealed record TaxTable(string SellerCountry, IReadOnlyList<TaxRule> Rules)
{
    public const string ReverseChargeMention = "Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)";

    /// <summary>The table before an admin saved one: no rules, no seller country, nothing taxed.</summary>
    public static readonly TaxTable Empty = new(string.Empty, []);

    /// <summary>What keeps this table from being saved, each as a sentence; empty when it can be.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (SellerCountry.Length > 0 && !Countries.IsCode(SellerCountry))
            problems.Add($"The seller's country \"{SellerCountry}\" is not a two-letter ISO 3166 code such as DE.");
        foreach (var rule in Rules)
        {
            if (!Countries.IsCode(rule.Country)) problems.Add($"\"{rule.Country}\" is not a two-letter ISO 3166 country code such as DE.");
            if (rule.Region is { } region && (region.Length is 0 or > 10 || !region.All(char.IsAsciiLetterOrDigit)))
                problems.Add($"The region \"{region}\" of {rule.Country} is a code of 1 to 10 letters or digits, such as QC.");
            if (rule.Rate is < 0m or > 1m)
                problems.Add($"The rate for {rule.Place} from {Day(rule.From)} is {Percent(rule.Rate)}: a rate is between 0 % and 100 %.");
        }
        foreach (var twins in Rules.GroupBy(r => (r.Country, r.Region, r.From)).Where(g => g.Count() > 1))
            problems.Add($"Two rules for {twins.First().Place} start on {Day(twins.Key.From)}: keep one.");
        return problems;
    }

    /// <summary>
    /// The tax of a line whose period starts on <paramref name="date"/>, billed to <paramref name="payer"/>: reverse charge, else
    /// the region's rule in force, else the country's, else <paramref name="fallbackRate"/>.
    /// </summary>
    public LineTax For(TaxPayer payer, DateOnly date, decimal fallbackRate)
    {
        if (IsReverseCharge(payer)) return new LineTax(0m, true);
        var country = payer.Country.ToUpperInvariant();
        var region = payer.Region?.ToUpperInvariant();
        var inForce = Rules.Where(r => r.Country == country && r.From <= date).ToList();
        var rule = inForce.Where(r => region is not null && r.Region == region).MaxBy(r => r.From)
            ?? inForce.Where(r => r.Region is null).MaxBy(r => r.From);
        return new LineTax(rule?.Rate ?? fallbackRate, false);
    }

    /// <summary>
    /// A business customer (one with a VAT number of its own country) in another EU country than the seller accounts for the
    /// VAT itself: the invoice charges none and says so.
    /// </summary>
    public bool IsReverseCharge(TaxPayer payer) =>
        Countries.InEu(SellerCountry) && Countries.InEu(payer.Country)
        && !string.Equals(payer.Country, SellerCountry, StringComparison.OrdinalIgnoreCase)
        && payer.TaxId is { } taxId && VatNumbers.IsOf(payer.Country, taxId);

    public static string Percent(decimal rate) => (rate * 100m).ToString("0.###", CultureInfo.InvariantCulture) + " %";

    private static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>One saved version of the tax table: who saved it, why and when. The newest is in force.</summary>
public sealed class TaxTableVersion
{
    private TaxTableVersion() { }

    public TaxTableVersion(int version, TaxTable table, string createdBy, string reason, DateTimeOffset createdAt)
    {
        if (table.Problems() is { Count: > 0 } problems) throw new DomainRuleException(string.Join(" ", problems));
        if (version < 1) throw new DomainRuleException("Tax table versions start at 1.");
        Version = version;
        Table = table;
        CreatedBy = createdBy;
        Reason = reason;
        CreatedAt = createdAt;
    }

    public int Version { get; private set; }
    public TaxTable Table { get; private set; } = TaxTable.Empty;
    public string CreatedBy { get; private set; } = string.Empty;
    public string Reason { get; private set; } = string.Empty;
    public DateTimeOffset CreatedAt { get; private set; }
}

/// <summary>The countries tax rules name, and which of them are in the EU.</summary>
public static class Countries
{
    private static readonly HashSet<string> Eu =
        ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"];

    public static bool IsCode(string code) => code.Length == 2 && code.All(char.IsAsciiLetterUpper);

    public static bool InEu(string country) => Eu.Contains(country.ToUpperInvariant());
}
