using FluentValidation;
using FluentValidation.Results;

namespace BillingConsole.Api;

/// <summary>Query string values parsed by hand, so that a malformed one is a 400 naming the parameter, not a bare 400.</summary>
internal static class QueryValues
{
    public static int? Int(string? value, string name) =>
        value is null ? null : int.TryParse(value, out var number) ? number : throw Invalid(name, "a whole number");

    public static Guid? Guid(string? value, string name) =>
        value is null ? null : System.Guid.TryParse(value, out var id) ? id : throw Invalid(name, "a UUID");

    private static ValidationException Invalid(string name, string expected) =>
        new([new ValidationFailure(name, $"{name} must be {expected}.")]);
}
