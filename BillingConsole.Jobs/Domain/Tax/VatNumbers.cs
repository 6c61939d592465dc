using System.Text.RegularExpressions;

namespace BillingConsole.Domain.Tax;

/// <summary>
/// The shape of each EU country's VAT number (the patterns VIES documents), checked without asking VIES: a number with an
/// EU prefix that does not have its country's shape is refused, so reverse charge is never granted on a typo.
/// </summary>
public static partial class VatNumbers
{
    // Prefix → (country, what follows the prefix, how to say it). Greece's prefix is EL, not its ISO code.
    private static readonly Dictionary<string, (string Country, Regex Body, string Shape)> Formats = new()
    {
        ["AT"] = ("AT", Body("U[0-9]{8}"), "U and 8 digits"),
        ["BE"] = ("BE", Body("[01][0-9]{9}"), "10 digits starting with 0 or 1"),
        ["BG"] = ("BG", Body("[0-9]{9,10}"), "9 or 10 digits"),
        ["HR"] = ("HR", Body("[0-9]{11}"), "11 digits"),
        ["CY"] = ("CY", Body("[0-9]{8}[A-Z]"), "8 digits and a letter"),
        ["CZ"] = ("CZ", Body("[0-9]{8,10}"), "8 to 10 digits"),
        ["DK"] = ("DK", Body("[0-9]{8}"), "8 digits"),
        ["EE"] = ("EE", Body("[0-9]{9}"), "9 digits"),
        ["FI"] = ("FI", Body("[0-9]{8}"), "8 digits"),
        ["FR"] = ("FR", Body("[0-9A-HJ-NP-Z]{2}[0-9]{9}"), "2 letters or digits and 9 digits"),
        ["DE"] = ("DE", Body("[0-9]{9}"), "9 digits"),
        ["EL"] = ("GR", Body("[0-9]{9}"), "9 digits"),
        ["HU"] = ("HU", Body("[0-9]{8}"), "8 digits"),
        ["IE"] = ("IE", Body("[0-9][0-9A-Z+*][0-9]{5}[A-W][A-IW]?"), "7 digits and 1 or 2 letters"),
        ["IT"] = ("IT", Body("[0-9]{11}"), "11 digits"),
        ["LV"] = ("LV", Body("[0-9]{11}"), "11 digits"),
        ["LT"] = ("LT", Body("([0-9]{9}|[0-9]{12})"), "9 or 12 digits"),
        ["LU"] = ("LU", Body("[0-9]{8}"), "8 digits"),
        ["MT"] = ("MT", Body("[0-9]{8}"), "8 digits"),
        ["NL"] = ("NL", Body("[0-9]{9}B[0-9]{2}"), "9 digits, B and 2 digits"),
        ["PL"] = ("PL", Body("[0-9]{10}"), "10 digits"),
        ["PT"] = ("PT", Body("[0-9]{9}"), "9 digits"),
        ["RO"] = ("RO", Body("[1-9][0-9]{1,9}"), "2 to 10 digits"),
        ["SK"] = ("SK", Body("[0-9]{10}"), "10 digits"),
        ["SI"] = ("SI", Body("[0-9]{8}"), "8 digits"),
        ["ES"] = ("ES", Body("[0-9A-Z][0-9]{7}[0-9A-Z]"), "9 letters or digits, the middle 7 digits"),
        ["SE"] = ("SE", Body("[0-9]{10}01"), "12 digits ending in 01"),
    };

    /// <summary>Why a number with an EU VAT prefix is not one, or null (also for numbers of other countries, not checked here).</summary>
    public static string? Problem(string taxId)
    {
        var value = Compact(taxId);
        if (value.Length < 2 || !Formats.TryGetValue(value[..2], out var format)) return null;
        return format.Body.IsMatch(value[2..])
            ? null
            : $"{taxId.Trim()} is not a VAT number of {format.Country}: after {value[..2]} come {format.Shape}.";
    }

    /// <summary>Whether <paramref name="taxId"/> is a well-formed VAT number of <paramref name="country"/>.</summary>
    public static bool IsOf(string country, string taxId)
    {
        var value = Compact(taxId);
        return value.Length > 2 && Formats.TryGetValue(value[..2], out var format)
            && format.Country == country.ToUpperInvariant() && format.Body.IsMatch(value[2..]);
    }

    // Printed numbers carry spaces, dots and dashes ("DE 123 456 789"); the registry's form has none.
    private static string Compact(string taxId) => new([.. taxId.ToUpperInvariant().Where(char.IsAsciiLetterOrDigit)]);

    private static Regex Body(string pattern) => new($"^{pattern}$", RegexOptions.CultureInvariant);
}
