using BillingConsole.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace BillingConsole.Extensions;

public static class UpstreamApiExtensions
{
    public const string Prefix = "/api/v1";

    /// <summary>The upstream systems' HTTP API: API-key authentication, its policy, and the OpenAPI document.</summary>
    public static IHostApplicationBuilder AddUpstreamApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, _ => { });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyAuthenticationHandler.Policy, policy => policy
                .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser());
        // The busiest answers serialize through generated code instead of reflection; every other type falls back as before.
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        builder.Services.AddOpenApi(options =>
        {
            options.ShouldInclude = description => description.RelativePath?.StartsWith(Prefix[1..], StringComparison.Ordinal) == true;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "BillingConsole upstream API";
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[ApiKeyAuthenticationHandler.SchemeName] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "An API key, bk_<prefix>_<secret>, as a bearer token or in the X-Api-Key header.",
                };
                document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, document)] = [] }];
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                if (context.Description.HttpMethod is "POST" or "PATCH")
                {
                    operation.Parameters ??= [];
                    operation.Parameters.Add(new OpenApiParameter
                    {
                        Name = IdempotentCommand.Header,
                        In = ParameterLocation.Header,
                        Required = true,
                        Description = "A new UUID for each distinct request; a retry with the same key and body gets the first answer.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" },
                    });
                }
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    /// <summary>/api/v1 behind the "api" policy, its request guard, and /openapi/v1.json.</summary>
    public static WebApplication MapUpstreamApi(this WebApplication app)
    {
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/api"), api => api.UseMiddleware<ApiRequestGuard>());
        var api = app.MapGroup(Prefix).RequireAuthorization(ApiKeyAuthenticationHandler.Policy).RequireRateLimiting(RateLimitingExtensions.ApiPolicy);
        api.MapCustomerEndpoints();
        api.MapSubscriptionEndpoints();
        api.MapInvoiceEndpoints();
        api.MapCatalogEndpoints();
        api.MapEventEndpointEndpoints();
        app.MapOpenApi();
        return app;
    }
}
