using BillingConsole.Domain.Common;

namespace BillingConsole.ReadModels;

/// <summary>
/// A text filter that only matches one of an enum's names (as the database spells them): any other value is refused with
/// the list of those that exist, rather than answered with an empty page.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class NamesOfAttribute(Type enumType) : Attribute
{
    public IReadOnlyList<string> Names { get; } = Enum.GetNames(enumType).Select(EnumNames.ToSnakeCase).ToArray();
}
