namespace BillingConsole.Domain.Common;

/// <summary>
/// Recognises text that looks like a full payment card number: 13 to 19 digits in a row, optionally grouped by single
/// spaces or dashes (a UUID is not one). No Luhn check: anything shaped like a card number is refused, so a real one can never be stored.
/// </summary>
public static class CardNumbers
{
    public const int MinDigits = 13;
    public const int MaxDigits = 19;

    public static bool LooksLikeCardNumber(string? text)
    {
        // A UUID's digit groups, joined by dashes, can run past 13 digits.
        if (string.IsNullOrEmpty(text) || Guid.TryParseExact(text.Trim(), "D", out _)) return false;
        var digits = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsAsciiDigit(c))
            {
                if (++digits >= MinDigits) return true;
            }
            else if ((c is ' ' or '-') && digits > 0 && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1]))
            {
                // A single separator inside a run of digits keeps the run going.
            }
            else
            {
                digits = 0;
            }
        }
        return false;
    }
}
