using System.Text;

namespace BillingConsole.Domain.Common;

public static class EnumNames
{
    /// <summary>PastDue → past_due: the spelling used in the database, the API and the console.</summary>
    public static string ToSnakeCase<T>(this T value) where T : struct, Enum => ToSnakeCase(value.ToString());

    public static string ToSnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) builder.Append('_');
            builder.Append(char.ToLowerInvariant(name[i]));
        }
        return builder.ToString();
    }

    public static bool TryParseSnakeCase<T>(string? text, out T value) where T : struct, Enum
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (candidate.ToSnakeCase() == text.Trim().ToLowerInvariant())
            {
                value = candidate;
                return true;
            }
        }
        return false;
    }
}
