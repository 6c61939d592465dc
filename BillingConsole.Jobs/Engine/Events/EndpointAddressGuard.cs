using System.Net;
using System.Net.Sockets;
using BillingConsole.Engine.Signing;

namespace BillingConsole.Engine.Events;

/// <summary>
/// The server-side request forgery guard of outgoing events: an endpoint may not be, or resolve to, a loopback,
/// link-local, private or otherwise non-public address unless an admin allowed its network (Events:AllowedNetworks). It is
/// checked when an endpoint is registered and again on every connection, so a name that later resolves inward is refused too.
/// </summary>
public static class EndpointAddressGuard
{
    private static readonly IReadOnlyList<IPNetwork> NonPublic =
    [
        .. new[]
        {
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
            "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
            "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
        }.Select(IPNetwork.Parse),
    ];

    /// <summary>Why a connection to this address is refused, or null when it may be made.</summary>
    public static string? Refusal(IPAddress address, IReadOnlyList<IPNetwork> allowed)
    {
        if (!WebhookSignature.IsAllowed(address, NonPublic)) return null;
        if (allowed.Count > 0 && WebhookSignature.IsAllowed(address, allowed)) return null;
        return $"{address} is a loopback, link-local or private address; events are only sent there when an admin allows its network (Events:AllowedNetworks).";
    }

    /// <summary>Resolves the URL's host and checks every address it has; the first refusal, or null.</summary>
    public static async Task<string?> CheckAsync(Uri url, IReadOnlyList<IPNetwork> allowed, CancellationToken ct)
    {
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(url.IdnHost, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(url.IdnHost, ct);
        }
        catch (SocketException)
        {
            return $"The host {url.Host} does not resolve.";
        }
        if (addresses.Length == 0) return $"The host {url.Host} does not resolve.";
        return addresses.Select(a => Refusal(a, allowed)).FirstOrDefault(r => r is not null);
    }

    /// <summary>
    /// The connection step of the events' HTTP client: resolves the host, refuses a non-public address with
    /// <see cref="RefusedAddressException"/>, and connects to the first address that passes.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, Func<IReadOnlyList<IPNetwork>> allowed, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var networks = allowed();
        var permitted = addresses.Where(a => Refusal(a, networks) is null).ToList();
        if (permitted.Count == 0)
            throw new RefusedAddressException(addresses.Length == 0 ? $"The host {host} does not resolve." : Refusal(addresses[0], networks)!);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(permitted[0], context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>A delivery was not attempted because its endpoint's address is not public and not allowed.</summary>
public sealed class RefusedAddressException(string message) : Exception(message);
