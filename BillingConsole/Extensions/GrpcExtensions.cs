using BillingConsole.Api;
using BillingConsole.GrpcApi;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace BillingConsole.Extensions;

public static class GrpcExtensions
{
    /// <summary>
    /// The upstream API as a gRPC service (BillingConsole/Protos/billing.proto), its failures mapped as the REST API's,
    /// over HTTP/2 on the console's own port: chosen by ALPN where the port has TLS, by the client's HTTP/2 preface on
    /// the cleartext port (<see cref="PriorKnowledgeHttp2"/>; README, "One port").
    /// </summary>
    public static IHostApplicationBuilder AddGrpcApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddGrpc(options => options.Interceptors.Add<GrpcProblemInterceptor>());
        builder.Services.Configure<KestrelServerOptions>(PriorKnowledgeHttp2.Enable);
        return builder;
    }

    /// <summary>Behind the API key and the API's rate limit, as the REST API.</summary>
    public static WebApplication MapGrpcApi(this WebApplication app)
    {
        app.MapGrpcService<BillingGrpcService>()
            .RequireAuthorization(ApiKeyAuthenticationHandler.Policy)
            .RequireRateLimiting(RateLimitingExtensions.ApiPolicy);
        return app;
    }
}
