using BillingConsole.Api;
using BillingConsole.GrpcApi;
using Grpc.AspNetCore.Web;

namespace BillingConsole.Extensions;

public static class GrpcExtensions
{
    /// <summary>The upstream API as a gRPC service (BillingConsole/Protos/billing.proto), its failures mapped as the REST API's.</summary>
    public static IHostApplicationBuilder AddGrpcApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddGrpc(options => options.Interceptors.Add<GrpcProblemInterceptor>());
        return builder;
    }

    /// <summary>
    /// On the console's own port, behind the API key and the API's rate limit: gRPC over HTTP/2 where the port has TLS (ALPN
    /// chooses), and gRPC-Web over HTTP/1.1 on the cleartext port, where Kestrel speaks HTTP/1.1 only (README, "One port").
    /// </summary>
    public static WebApplication MapGrpcApi(this WebApplication app)
    {
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        app.MapGrpcService<BillingGrpcService>()
            .RequireAuthorization(ApiKeyAuthenticationHandler.Policy)
            .RequireRateLimiting(RateLimitingExtensions.ApiPolicy);
        return app;
    }
}
