using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace BillingConsole.Tests.Api;

/// <summary>
/// Text written to break parsers and PostgreSQL, for the property tests: NUL, lone surrogates, control characters, JSON's own
/// metacharacters, among ordinary and arbitrary characters, and sometimes bytes that are not UTF-8 at all.
/// </summary>
/// <param name="Text">Written as JSON escapes, so a lone surrogate reaches the server as "\ud800".</param>
/// <param name="RawBytes">Written as they are, in the middle of the string.</param>
public sealed record HostileText(string Text, byte[] RawBytes)
{
    private static readonly char[] Breakers =
        ['\0', '\ud800', '\udbff', '\udc00', '\udfff', '\u0001', '\u0007', '\u001b', '\u007f', '\u0085', '\t', '\n', '\r', '"', '\\', '\u2028', '\ufeff', '\uffff'];

    private static readonly byte[] NotUtf8Alone = [0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF8, 0xFF];

    public static Arbitrary<HostileText> Any() =>
        (from chars in Gen.ArrayOf(Gen.Frequency(
                (3, Gen.Elements(Breakers)),
                (3, Gen.Choose(0x20, 0x7e).Select(c => (char)c)),
                (1, Gen.Choose(0, 0xFFFF).Select(c => (char)c))))
         from raw in Gen.Frequency((3, Gen.Constant(Array.Empty<byte>())), (1, Gen.ArrayOf(Gen.Elements(NotUtf8Alone))))
         select new HostileText(new string(chars), raw)).ToArbitrary();

    /// <summary>The quoted JSON string, as bytes.</summary>
    public byte[] JsonString()
    {
        var pieces = Text.Select(c => c is >= ' ' and <= '~' and not ('"' or '\\') ? c.ToString() : $"\\u{(int)c:x4}").ToList();
        var half = pieces.Count / 2;
        return [.. "\""u8, .. Ascii(pieces.Take(half)), .. RawBytes, .. Ascii(pieces.Skip(half)), .. "\""u8];
    }

    private static byte[] Ascii(IEnumerable<string> pieces) => Encoding.ASCII.GetBytes(string.Concat(pieces));

    /// <summary>The JSON object text around one hostile string: {before}"…"{after}.</summary>
    public byte[] Between(string before, string after) => [.. Encoding.UTF8.GetBytes(before), .. JsonString(), .. Encoding.UTF8.GetBytes(after)];

    public override string ToString() =>
        $"\"{string.Concat(Text.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:x4}"))}\" + bytes [{Convert.ToHexString(RawBytes)}]";
}
