using BillingConsole.Domain.Payments;

namespace BillingConsole.Components.Shared;

/// <summary>What the confirmation of a manual charge says: plain for a soft decline, a warning when the card cannot succeed.</summary>
public static class RetryNowText
{
    /// <param name="amount">The amount the charge asks for, formatted.</param>
    /// <param name="hardDeclineCode">The hard decline the case is waiting on (no new card since), or null.</param>
    public static string For(string amount, string? hardDeclineCode) => hardDeclineCode switch
    {
        null => $"Charges {amount} to the customer's default payment method now.",
        DeclineCodes.NoPaymentMethod => $"There is no payment method on file: a charge of {amount} is declined at once. Attach a card first.",
        _ => $"The last decline, {hardDeclineCode.Replace('_', ' ')}, is a hard decline: the card network will decline a charge of {amount} " +
             "to the same card again, and retries on hard declines count against the card network's retry limits (at most " +
             "15 in 30 days, with fines beyond). Ask the customer for a new payment method instead.",
    };
}
