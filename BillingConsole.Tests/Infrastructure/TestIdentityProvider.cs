using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// A real OpenID Connect provider (OpenIddict) on a loopback port: authorization code + PKCE, a sign-in form with three
/// known users, and a role claim whose values ("billing-finance", …) differ from the console's role names, so the
/// console's role mapping is exercised too.
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string ClientId = "billing-console";
    public const string ClientSecret = "test-client-secret-3f7c";

    public static readonly IReadOnlyDictionary<string, (string Name, string Email, string Role)> Users = new Dictionary<string, (string, string, string)>
    {
        ["fiona"] = ("Fiona Finance", "fiona@example.test", "billing-finance"),
        ["sam"] = ("Sam Support", "sam@example.test", "billing-support"),
        ["ada"] = ("Ada Admin", "ada@example.test", "billing-admin"),
        ["nobody"] = ("Nora Nobody", "nora@example.test", "marketing"),
    };

    private readonly WebApplication _app;

    private TestIdentityProvider(WebApplication app, Uri authority)
    {
        _app = app;
        Authority = authority;
    }

    public Uri Authority { get; }

    public static async Task<TestIdentityProvider> StartAsync(Uri consoleBaseAddress)
    {
        var port = ConsoleAppHost.FreePort();
        var authority = new Uri($"http://127.0.0.1:{port}/");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(authority.ToString());
        builder.Logging.ClearProviders();
        builder.Services.AddDbContext<DbContext>(o => o.UseInMemoryDatabase($"oidc-{port}").UseOpenIddict());
        builder.Services.AddOpenIddict()
            .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<DbContext>())
            .AddServer(server =>
            {
                server.SetIssuer(authority);
                server.SetAuthorizationEndpointUris("connect/authorize").SetTokenEndpointUris("connect/token");
                server.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
                server.AddEphemeralEncryptionKey().AddEphemeralSigningKey().DisableAccessTokenEncryption();
                server.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.Roles);
                server.UseAspNetCore().EnableAuthorizationEndpointPassthrough().DisableTransportSecurityRequirement();
            });

        var app = builder.Build();
        app.MapMethods("/connect/authorize", ["GET", "POST"], Authorize);
        await app.StartAsync();

        using (var scope = app.Services.CreateScope())
        {
            var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            await applications.CreateAsync(new OpenIddictApplicationDescriptor
            {
                ClientId = ClientId,
                ClientSecret = ClientSecret,
                ClientType = ClientTypes.Confidential,
                RedirectUris = { new Uri(consoleBaseAddress, "/signin-oidc") },
                PostLogoutRedirectUris = { new Uri(consoleBaseAddress, "/signout-callback-oidc") },
                Permissions =
                {
                    Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.GrantTypes.AuthorizationCode,
                    Permissions.ResponseTypes.Code, Permissions.Scopes.Email, Permissions.Scopes.Profile, Permissions.Scopes.Roles,
                },
                Requirements = { Requirements.Features.ProofKeyForCodeExchange },
            });
        }
        return new TestIdentityProvider(app, authority);
    }

    /// <summary>GET shows the sign-in form (re-posting the authorization request); POST with a known user signs them in.</summary>
    private static IResult Authorize(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        var username = context.Request.HasFormContentType ? context.Request.Form["username"].ToString() : string.Empty;
        if (!Users.TryGetValue(username, out var user))
            return Results.Content(SignInForm(request, string.IsNullOrEmpty(username) ? null : "Unknown user."), "text/html");

        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, username).SetClaim(Claims.Name, user.Name).SetClaim(Claims.Email, user.Email)
            .SetClaims(Claims.Role, [user.Role]);
        identity.SetScopes(request.GetScopes());
        identity.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static string SignInForm(OpenIddictRequest request, string? error)
    {
        var hidden = string.Join("", request.GetParameters()
            .Select(p => $"<input type=\"hidden\" name=\"{WebUtility.HtmlEncode(p.Key)}\" value=\"{WebUtility.HtmlEncode(p.Value.ToString())}\" />"));
        return $"""
            <!DOCTYPE html><html><head><title>Test identity provider</title></head><body>
            <h1>Test identity provider</h1>{(error is null ? "" : $"<p id=\"error\">{error}</p>")}
            <form method="post" action="/connect/authorize">{hidden}
            <label>User <input id="username" name="username" /></label> <button id="sign-in" type="submit">Sign in</button>
            </form></body></html>
            """;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
