namespace BillingConsole.Components.Pages.Errors;

/// <summary>What an address that matched nothing was asking for, in words, and the list to go back to.</summary>
public sealed record MissingThing(string Title, string Message, string BackHref, string BackText)
{
    public static readonly MissingThing Page = new("Page not found",
        "Nothing in BillingConsole lives at this address. It may be mistyped, or the link may be out of date.", "/", "Dashboard");

    private static readonly Dictionary<string, (string Thing, string BackText)> Lists = new(StringComparer.OrdinalIgnoreCase)
    {
        ["customers"] = ("customer", "All customers"),
        ["subscriptions"] = ("subscription", "All subscriptions"),
        ["invoices"] = ("invoice", "All invoices"),
        ["dunning"] = ("dunning case", "Dunning queue"),
        ["billing-runs"] = ("billing run", "All billing runs"),
    };

    /// <summary>A detail address (<c>/customers/{id}</c>) names the kind of thing that was not found; anything else is a page.</summary>
    public static MissingThing At(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length != 2 || !Guid.TryParse(segments[1], out _) || !Lists.TryGetValue(segments[0], out var list)) return Page;
        var title = char.ToUpperInvariant(list.Thing[0]) + list.Thing[1..] + " not found";
        return new MissingThing(title,
            $"There is no {list.Thing} with this id. The link may be mistyped or out of date, or it was made on another installation.",
            "/" + segments[0].ToLowerInvariant(), list.BackText);
    }
}
