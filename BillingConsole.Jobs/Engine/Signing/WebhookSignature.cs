using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace BillingConsole.Engine.Signing;

/// <summary>The checks that run before a webhook body is trusted, as pure functions so that they can be tested alone.</summary>
public static class WebhookSignature
{
    public const string Header = "Stripe-Signature";

    /// <summary>
    /// Checks a Stripe-style <c>t=TIMESTAMP,v1=HEX[,v1=HEX…]</c> header: one v1 must be HMAC-SHA256(secret, "t.body") and
    /// t must be within <paramref name="tolerance"/> of <paramref name="now"/>. Returns why it fails, or null when it holds.
    /// </summary>
    public static string? Verify(string? header, ReadOnlySpan<byte> body, string secret, DateTimeOffset now, TimeSpan tolerance)
    {
        if (string.IsNullOrWhiteSpace(header)) return "missing signature header";
        string? timestamp = null;
        var candidates = new List<byte[]>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) continue;
            var (name, value) = (part[..eq], part[(eq + 1)..]);
            if (name == "t") timestamp = value;
            else if (name == "v1" && TryHex(value) is { } signature) candidates.Add(signature);
        }
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return "missing or invalid timestamp";
        if (candidates.Count == 0) return "no v1 signature";
        if (seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds()) return "timestamp outside tolerance";
        if ((now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > tolerance) return "timestamp outside tolerance";

        var expected = Compute(secret, timestamp!, body);
        // Every candidate is compared, in constant time, so the answer's timing says nothing about the expected value.
        var matched = false;
        foreach (var candidate in candidates) matched |= CryptographicOperations.FixedTimeEquals(candidate, expected);
        return matched ? null : "signature mismatch";
    }

    /// <summary>HMAC-SHA256(secret, "timestamp." + body): what a v1 signature must equal.</summary>
    public static byte[] Compute(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
    }

    /// <summary>The signature header of a body sent at <paramref name="timestamp"/> (Unix seconds): <c>t=TIMESTAMP,v1=HEX</c>.</summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body) =>
        $"t={timestamp},v1={Convert.ToHexStringLower(Compute(secret, timestamp, body))}";

    /// <summary>True when <paramref name="networks"/> is empty or one of them contains the address (IPv4-mapped IPv6 counts as IPv4).</summary>
    public static bool IsAllowed(IPAddress? address, IReadOnlyList<IPNetwork> networks)
    {
        if (networks.Count == 0) return true;
        if (address is null) return false;
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return networks.Any(n => n.Contains(plain));
    }

    private static byte[]? TryHex(string value)
    {
        try
        {
            return Convert.FromHexString(value);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
