using System.Text.RegularExpressions;

namespace BillingConsole.Domain.Common;

/// <summary>
/// Recognises text that looks like a full payment card number: a standalone run of 13 to 19 digits, optionally grouped by
/// single spaces or dashes. No Luhn check: anything shaped like a card number is refused, so a real one is never stored.
/// </summary>
/// <remarks>
/// "Standalone" (no letter or digit directly before or after) keeps random tokens and hex identifiers, whose digits
/// sit between letters, from being mistaken for card numbers; a UUID's dash-joined groups are excluded for the same reason.
/// </remarks>
public static partial class CardNumbers
{
    public static bool LooksLikeCardNumber(string? text) =>
        !string.IsNullOrEmpty(text) && !Guid.TryParseExact(text.Trim(), "D", out _) && Pattern().IsMatch(text);

    [GeneratedRegex(@"(?<![A-Za-z0-9])[0-9](?:[ -]?[0-9]){12,18}(?![A-Za-z0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
