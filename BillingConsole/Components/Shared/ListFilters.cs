using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using BillingConsole.Domain.Common;
using BillingConsole.ReadModels;
using Microsoft.Extensions.Primitives;

namespace BillingConsole.Components.Shared;

/// <summary>
/// Reads a list's filter record from a query string and writes it back, so the URL of a list reproduces the view and the
/// CSV export of the same URL exports exactly what the list shows. Properties map to camelCase keys (status, dueFrom, …).
/// </summary>
public static class ListFilters
{
    public static (T Filter, IReadOnlyList<string> Errors) Parse<T>(IDictionary<string, StringValues> query) where T : new()
    {
        object filter = new T();
        var errors = new List<string>();
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            if (!query.TryGetValue(Key(property), out var values) || StringValues.IsNullOrEmpty(values)) continue;
            var text = values.ToString().Trim();
            if (text.Length == 0) continue;
            // Not echoed: the text is what could not be shown or stored.
            if (PlainText.Fault(text) is { } fault) errors.Add($"The {Key(property)} {fault}.");
            else if (property.GetCustomAttribute<NamesOfAttribute>() is { } names && !names.Names.Contains(text))
                errors.Add($"'{text}' is not a {Key(property)}: choose one of {string.Join(", ", names.Names)}.");
            else if (TryConvert(text, property.PropertyType, out var value)) property.SetValue(filter, value);
            else errors.Add($"'{text}' is not a valid {Key(property)}.");
        }
        return ((T)filter, errors);
    }

    public static (T Filter, IReadOnlyList<string> Errors) Parse<T>(string uri) where T : new() =>
        Parse<T>(QueryHelpers.ParseQuery(new Uri(uri).Query));

    public static string ToQueryString<T>(T filter)
    {
        var builder = new StringBuilder();
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var text = property.GetValue(filter) switch
            {
                null => null,
                bool flag => flag ? "true" : null,
                DateOnly day => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
                var other => other.ToString(),
            };
            if (string.IsNullOrEmpty(text)) continue;
            builder.Append(builder.Length == 0 ? '?' : '&').Append(Key(property)).Append('=').Append(Uri.EscapeDataString(text));
        }
        return builder.ToString();
    }

    private static string Key(PropertyInfo property) => char.ToLowerInvariant(property.Name[0]) + property.Name[1..];

    private static bool TryConvert(string text, Type type, out object? value)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        value = null;
        if (target == typeof(string)) { value = text.Length <= 200 ? text : null; return value is not null; }
        if (target == typeof(Guid) && Guid.TryParse(text, out var id)) { value = id; return true; }
        if (target == typeof(DateOnly) && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)) { value = day; return true; }
        if (target == typeof(decimal) && decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var amount) && Math.Abs(amount) < 1_000_000_000_000m) { value = amount; return true; }
        if (target == typeof(bool) && bool.TryParse(text, out var flag)) { value = flag; return true; }
        if (target == typeof(int) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)) { value = number; return true; }
        return false;
    }
}
