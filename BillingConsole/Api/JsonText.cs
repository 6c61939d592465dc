using System.Text.Json;
using BillingConsole.Domain.Common;

namespace BillingConsole.Api;

/// <summary>The text of a parsed JSON body, for the checks that run before anything is bound or stored.</summary>
internal static class JsonText
{
    /// <summary>
    /// Every property name, string and number at any depth, with its field path ("address.line1", "lines[2].note"). The
    /// value is null when the string cannot be decoded: bytes that are not UTF-8, or an escaped lone surrogate such as
    /// "\ud800", which System.Text.Json parses but refuses to turn into a string.
    /// </summary>
    public static IEnumerable<(string Field, string? Value)> Values(JsonElement element, string path = "")
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var name = Decode(() => property.Name);
                    var field = path.Length == 0 ? Field(name) : $"{path}.{Field(name)}";
                    yield return (field, name);
                    foreach (var value in Values(property.Value, field)) yield return value;
                }
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                foreach (var value in Values(item, $"{path}[{index++}]"))
                    yield return value;
                break;
            case JsonValueKind.String:
                yield return (path, Decode(element.GetString));
                break;
            case JsonValueKind.Number:
                yield return (path, element.GetRawText());
                break;
        }
    }

    /// <summary>Why a string from <see cref="Values"/> cannot be decoded.</summary>
    public const string UndecodableMessage =
        "This text is not valid Unicode: it holds bytes that are not UTF-8 or half of a surrogate pair (such as \\ud800) without the other half.";

    /// <summary>A field path safe to show and to store: a name that cannot be decoded or holds refused characters is shown with U+FFFD.</summary>
    private static string Field(string? name) => name is null ? "\uFFFD" : PlainText.Printable(name);

    private static string? Decode(Func<string?> read)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
