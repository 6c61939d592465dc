using System.Net;
using BillingConsole.Configuration;
using Microsoft.AspNetCore.HttpOverrides;

namespace BillingConsole.Extensions;

/// <summary>
/// Behind a reverse proxy (deploy/nginx) the connection comes from the proxy: "ReverseProxy:KnownProxies" lists the proxies'
/// addresses, and only a request from one of them has its X-Forwarded-For and X-Forwarded-Proto believed. The webhook
/// allow-list and the per-address rate limits then see the real client. With no proxy listed no header is believed.
/// </summary>
public static class ReverseProxyExtensions
{
    public const string KnownProxiesSetting = "ReverseProxy:KnownProxies";

    public static IHostApplicationBuilder AddReverseProxySupport(this IHostApplicationBuilder builder)
    {
        var proxies = builder.Configuration.GetSection(KnownProxiesSetting).Get<string[]>() ?? [];
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Loopback is trusted by default; only the proxies named here are.
            options.KnownIPNetworks.Clear();
            options.KnownProxies.Clear();
            foreach (var proxy in proxies)
            {
                if (!IPAddress.TryParse(proxy, out var address))
                    throw new StartupException($"{KnownProxiesSetting} holds '{proxy}', which is not an IP address (e.g. '10.0.0.5').");
                options.KnownProxies.Add(address);
            }
        });
        return builder;
    }
}
