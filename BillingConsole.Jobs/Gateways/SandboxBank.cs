using BillingConsole.Domain.Payments;

namespace BillingConsole.Gateways;

/// <summary>
/// The sandbox's <c>pm_bank_</c> cards: a card population that behaves like real issuers, so that dunning has something to
/// learn from. A token <c>pm_bank_7_…</c> declines the first charge of about 7 % of invoices with a realistic mix of codes; a
/// soft decline is paid on a later charge with a chance that is highest on paydays and weekday mornings and falls with every
/// failed retry; a hard decline (expired, lost, stolen, fraud, closed account) is never paid by that card. Every draw is a
/// hash of the token, the invoice number and the time of the charge, so the same history gives the same answers.
/// </summary>
internal static class SandboxBank
{
    public const string Prefix = "pm_bank_";

    private static readonly string[] Codes =
    [
        DeclineCodes.InsufficientFunds, DeclineCodes.DoNotHonor, DeclineCodes.TryAgainLater, DeclineCodes.ExpiredCard,
        DeclineCodes.LostCard, DeclineCodes.StolenCard, DeclineCodes.Fraudulent, DeclineCodes.AccountClosed,
    ];

    private static readonly int[] CodeWeights = [450, 200, 80, 120, 25, 25, 30, 20];

    /// <summary>The decline an invoice's first charge gets, or null when it is paid.</summary>
    public static string? FirstCharge(string token, string invoiceNumber)
    {
        if (Draw(token, invoiceNumber, "first") * 100 >= RiskPercent(token)) return null;
        var pick = Draw(token, invoiceNumber, "code") * CodeWeights.Sum();
        for (var i = 0; i < Codes.Length; i++)
        {
            pick -= CodeWeights[i];
            if (pick < 0) return Codes[i];
        }
        return Codes[^1];
    }

    /// <summary>Whether a later charge of an invoice declined with <paramref name="declineCode"/> is paid.</summary>
    public static bool LaterChargePays(string token, string invoiceNumber, string declineCode, int failedRetries, DateTimeOffset at) =>
        !DeclineCodes.DefaultHard.Contains(declineCode)
        && Draw(token, invoiceNumber, at.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture))
           < RecoveryChance(declineCode, at, failedRetries + 1);

    /// <summary>The percent after the prefix (pm_bank_7_…), 5 when there is none.</summary>
    private static int RiskPercent(string token)
    {
        var rest = token.AsSpan(Prefix.Length);
        var end = rest.IndexOf('_');
        return end > 0 && int.TryParse(rest[..end], out var percent) && percent is >= 0 and <= 100 ? percent : 5;
    }

    private static bool IsPayday(DateTimeOffset at) => at.Day is 1 or 2 or 15 or 16 || at.AddDays(1).Month != at.Month;

    private static double RecoveryChance(string declineCode, DateTimeOffset at, int retryNumber)
    {
        var chance = declineCode switch
        {
            DeclineCodes.InsufficientFunds => 0.16,
            DeclineCodes.DoNotHonor => 0.10,
            DeclineCodes.TryAgainLater => 0.42,
            _ => 0.12,
        };
        if (IsPayday(at)) chance *= 1.9;
        chance *= at.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 0.65 : 1.1;
        if (at.Hour is >= 7 and <= 11) chance *= 1.15;
        else if (at.Hour < 6) chance *= 0.75;
        chance *= Math.Max(0.5, 1 - 0.06 * (retryNumber - 1));
        return Math.Clamp(chance, 0.02, 0.85);
    }

    /// <summary>A uniform draw in [0, 1) from the FNV-1a hash of the parts: stable across processes and runs.</summary>
    private static double Draw(string token, string invoiceNumber, string salt)
    {
        var hash = 14695981039346656037UL;
        foreach (var part in new[] { token, invoiceNumber, salt })
        {
            foreach (var c in part)
            {
                hash = (hash ^ c) * 1099511628211UL;
            }
            hash = (hash ^ '|') * 1099511628211UL;
        }
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return (hash >> 11) * (1.0 / (1UL << 53));
    }
}
