namespace BillingConsole.Domain.Common;

/// <summary>
/// What text may be kept: PostgreSQL refuses NUL in text and jsonb, a lone UTF-16 surrogate is not a character and cannot be
/// written as UTF-8, and the other control characters only hide things from the person reading. Tabs and line breaks are text.
/// </summary>
public static class PlainText
{
    /// <summary>What is wrong with the text, as the end of a sentence ("contains a NUL character (U+0000)"); null when it may be kept.</summary>
    public static string? Fault(string? text) => Scan(text, refuseControlCharacters: true);

    /// <summary>Like <see cref="Fault"/>, but only for what PostgreSQL cannot store at all: NUL and lone surrogates.</summary>
    public static string? StorageFault(string? text) => Scan(text, refuseControlCharacters: false);

    /// <summary>The sentence a person or caller reads when <see cref="Fault"/> refuses the text.</summary>
    public static string Explain(string? text) =>
        $"This text {Fault(text)}: control characters other than tabs and line breaks, and broken Unicode, cannot be kept.";

    /// <summary>The text with every character <see cref="Fault"/> refuses replaced by U+FFFD, for showing what was refused.</summary>
    public static string Printable(string text)
    {
        var printable = new System.Text.StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (IsPair(text, i)) printable.Append(text, i++, 2);
            else printable.Append(IsRefused(text[i], refuseControlCharacters: true) ? '\uFFFD' : text[i]);
        }
        return printable.ToString();
    }

    private static string? Scan(string? text, bool refuseControlCharacters)
    {
        if (text is null) return null;
        for (var i = 0; i < text.Length; i++)
        {
            if (IsPair(text, i)) i++;
            else if (IsRefused(text[i], refuseControlCharacters)) return Describe(text[i]);
        }
        return null;
    }

    private static bool IsPair(string text, int i) => char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);

    /// <summary>For a character not part of a surrogate pair.</summary>
    private static bool IsRefused(char c, bool refuseControlCharacters) =>
        c == '\0' || char.IsSurrogate(c) || (refuseControlCharacters && char.IsControl(c) && c is not ('\t' or '\n' or '\r'));

    private static string Describe(char c) => c switch
    {
        '\0' => "contains a NUL character (U+0000)",
        _ when char.IsSurrogate(c) => $"contains half of a surrogate pair (U+{(int)c:X4}) without the other half",
        _ => $"contains the control character U+{(int)c:X4}",
    };
}
