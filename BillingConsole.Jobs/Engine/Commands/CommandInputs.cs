namespace BillingConsole.Engine.Commands;

// What a caller asks for, as the API receives it and a console form fills it in. Everything is nullable so that a
// missing field reaches the validator and is named there, instead of failing in the JSON binder.

public sealed record AddressInput(string? Line1, string? Line2, string? City, string? PostalCode, string? Country);

public sealed record CreateCustomer(string? Name, string? Email, string? Currency, AddressInput? Address, string? ExternalRef);

/// <summary>A partial update: a field left out (null) keeps its value. An empty externalRef clears it.</summary>
public sealed record UpdateCustomer(string? Name, string? Email, string? Currency, AddressInput? Address, string? ExternalRef);

/// <param name="Gateway">Which gateway issued the token; "sandbox" when left out.</param>
public sealed record AttachPaymentMethod(string? Gateway, string? Token, string? Brand, string? Last4, int? ExpMonth, int? ExpYear);

/// <param name="TrialDays">Overrides the price's trial; 0 for none.</param>
public sealed record CreateSubscription(Guid? CustomerId, Guid? PriceId, int? Quantity, int? TrialDays);

/// <param name="Quantity">Left out: the current quantity.</param>
/// <param name="Behavior">immediate, next_invoice or at_period_end; left out: immediate for upgrades, at_period_end otherwise.</param>
/// <param name="ProrationDate">
/// Prices the change as of this instant (within the last hour and the current period) instead of now, so that the change
/// bills exactly what a preview quoted at that instant showed.
/// </param>
public sealed record ChangePlan(Guid? PriceId, int? Quantity, string? Behavior, DateTimeOffset? ProrationDate);

/// <param name="When">at_period_end (the default) or now.</param>
public sealed record CancelSubscription(string? When);

public static class CancelWhen
{
    public const string AtPeriodEnd = "at_period_end";
    public const string Now = "now";
    public static readonly IReadOnlyList<string> All = [AtPeriodEnd, Now];
}
