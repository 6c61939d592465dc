using System.Globalization;
using System.Security.Cryptography;
using BillingConsole.Configuration;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.PayPage;

/// <summary>
/// Links to the customer's own payment page (<c>/pay/{token}</c>, no sign-in). A token is protected by the host's data
/// protection keys, so it cannot be forged or altered; it names one customer and one purpose, carries its own expiry
/// (read against the injected clock), and is bound to the payment method the customer had when it was made, so once a new
/// card is attached the link is spent.
/// </summary>
public sealed class PayLinks(IDataProtectionProvider protection, IOptions<PayPageOptions> options, TimeProvider clock)
{
    private const string NoMethod = "none";
    private readonly IDataProtector _protector = protection.CreateProtector("BillingConsole.PayLink.v1");

    /// <summary>The absolute URL of a fresh link for <paramref name="customerId"/>, valid for the configured lifetime.</summary>
    public string UrlFor(Guid customerId, Guid? currentPaymentMethodId) =>
        $"{options.Value.PublicBaseUrl.TrimEnd('/')}/pay/{TokenFor(customerId, currentPaymentMethodId)}";

    public string TokenFor(Guid customerId, Guid? currentPaymentMethodId)
    {
        var expires = clock.GetUtcNow().AddDays(options.Value.LinkLifetimeDays).ToUnixTimeSeconds();
        var method = currentPaymentMethodId?.ToString("N") ?? NoMethod;
        return _protector.Protect(string.Join('|', customerId.ToString("N"), method, expires.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>What a token says, or why it is refused; <see cref="PayLink.MethodWhenIssued"/> is checked by the caller.</summary>
    public PayLinkReading Read(string token)
    {
        string payload;
        try
        {
            payload = _protector.Unprotect(token);
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            return PayLinkReading.Refused(PayLinkRefusal.Invalid);
        }
        var parts = payload.Split('|');
        if (parts.Length != 3 || !Guid.TryParseExact(parts[0], "N", out var customerId)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
            return PayLinkReading.Refused(PayLinkRefusal.Invalid);
        Guid? method = parts[1] == NoMethod ? null : Guid.TryParseExact(parts[1], "N", out var id) ? id : null;
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(expires);
        return clock.GetUtcNow() >= expiresAt
            ? PayLinkReading.Refused(PayLinkRefusal.Expired)
            : new PayLinkReading(new PayLink(customerId, method, expiresAt), null);
    }
}

public sealed record PayLink(Guid CustomerId, Guid? MethodWhenIssued, DateTimeOffset ExpiresAt)
{
    /// <summary>A link is spent once the customer's default payment method is no longer the one it was made for.</summary>
    public bool IsSpent(Guid? currentPaymentMethodId) => currentPaymentMethodId != MethodWhenIssued;
}

public enum PayLinkRefusal { Invalid, Expired }

public sealed record PayLinkReading(PayLink? Link, PayLinkRefusal? Refusal)
{
    public static PayLinkReading Refused(PayLinkRefusal refusal) => new(null, refusal);
}
