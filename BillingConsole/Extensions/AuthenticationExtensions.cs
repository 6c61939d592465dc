using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using BillingConsole.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;

namespace BillingConsole.Extensions;

/// <summary>appsettings.json "Authentication": the OpenID Connect provider and how its role values map to console roles.</summary>
public sealed class ConsoleAuthenticationOptions
{
    public const string Section = "Authentication";

    /// <summary>The provider's issuer URL. When empty, only the development sign-in (Development environment) is available.</summary>
    public string? Authority { get; set; }
    public string ClientId { get; set; } = "billing-console";
    public string? ClientSecret { get; set; }
    /// <summary>The claim in the provider's tokens that carries role values.</summary>
    [Required] public string RoleClaim { get; set; } = "role";
    /// <summary>Console role → the provider's values that grant it, e.g. "admin": ["billing-admins"].</summary>
    public Dictionary<string, string[]> RoleMap { get; set; } = new()
    {
        [ConsoleRoles.Finance] = [ConsoleRoles.Finance],
        [ConsoleRoles.Support] = [ConsoleRoles.Support],
        [ConsoleRoles.Admin] = [ConsoleRoles.Admin],
    };
    public bool RequireHttpsMetadata { get; set; } = true;
    /// <summary>A sign-in page that lets anyone pick a role. Honoured only in Development and only without an authority.</summary>
    public bool DevelopmentSignIn { get; set; }
}

public static class AuthenticationExtensions
{
    public static IHostApplicationBuilder AddConsoleAuthentication(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(ConsoleAuthenticationOptions.Section).Get<ConsoleAuthenticationOptions>() ?? new();
        var useOidc = !string.IsNullOrWhiteSpace(options.Authority);
        if (options.DevelopmentSignIn && !builder.Environment.IsDevelopment())
            throw new StartupException($"Authentication:DevelopmentSignIn is on in the {builder.Environment.EnvironmentName} environment: it lets anyone pick a role, so it is allowed only in Development.");
        if (!useOidc && !options.DevelopmentSignIn)
            throw new StartupException("No sign-in is configured: set Authentication:Authority (and ClientId/ClientSecret) to an OpenID Connect provider.");
        builder.Services.AddOptions<ConsoleAuthenticationOptions>().BindConfiguration(ConsoleAuthenticationOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        var authentication = builder.Services.AddAuthentication(o =>
            {
                o.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                o.DefaultChallengeScheme = CookieAuthenticationDefaults.AuthenticationScheme;
            })
            .AddCookie(cookie =>
            {
                cookie.Cookie.Name = "billing.auth";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Lax;
                cookie.LoginPath = "/account/login";
                cookie.AccessDeniedPath = "/account/denied";
                cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
                cookie.SlidingExpiration = true;
            });

        if (useOidc)
        {
            authentication.AddOpenIdConnect(oidc =>
            {
                oidc.Authority = options.Authority;
                oidc.ClientId = options.ClientId;
                oidc.ClientSecret = options.ClientSecret;
                oidc.ResponseType = "code";
                oidc.UsePkce = true;
                oidc.RequireHttpsMetadata = options.RequireHttpsMetadata;
                oidc.MapInboundClaims = false;
                oidc.SaveTokens = false;
                oidc.GetClaimsFromUserInfoEndpoint = true;
                oidc.Scope.Clear();
                foreach (var scope in new[] { "openid", "profile", "email", "roles" }) oidc.Scope.Add(scope);
                oidc.ClaimActions.MapUniqueJsonKey(options.RoleClaim, options.RoleClaim);
                oidc.TokenValidationParameters.NameClaimType = "name";
                oidc.TokenValidationParameters.RoleClaimType = ConsoleRoles.ClaimType;
                // On plain http (a loopback provider in tests) the default SameSite=None cookies would be dropped.
                oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
                oidc.NonceCookie.SameSite = SameSiteMode.Lax;
                oidc.Events.OnTokenValidated = context => MapRoles(context.Principal, options);
                oidc.Events.OnUserInformationReceived = context => MapRoles(context.Principal, options);
            });
        }

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ConsolePolicies.Read, p => p.RequireClaim(ConsoleRoles.ClaimType, ConsoleRoles.All))
            .AddPolicy(ConsolePolicies.Support, p => p.RequireClaim(ConsoleRoles.ClaimType, ConsoleRoles.Support, ConsoleRoles.Admin))
            .AddPolicy(ConsolePolicies.Admin, p => p.RequireClaim(ConsoleRoles.ClaimType, ConsoleRoles.Admin));
        builder.Services.AddCascadingAuthenticationState();
        return builder;
    }

    /// <summary>Adds a console role claim for every role whose mapped provider values the user holds.</summary>
    private static Task MapRoles(ClaimsPrincipal? principal, ConsoleAuthenticationOptions options)
    {
        if (principal?.Identity is not ClaimsIdentity identity) return Task.CompletedTask;
        var granted = identity.FindAll(options.RoleClaim).SelectMany(c => c.Value.Split(' ', ',')).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var (role, values) in options.RoleMap)
        {
            if (ConsoleRoles.All.Contains(role) && values.Any(granted.Contains) && !identity.HasClaim(ConsoleRoles.ClaimType, role))
                identity.AddClaim(new Claim(ConsoleRoles.ClaimType, role));
        }
        return Task.CompletedTask;
    }

    /// <summary>Sign-in, sign-out and the development sign-in form's target.</summary>
    public static void MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var account = endpoints.MapGroup("/account");
        account.MapGet("/login", (string? returnUrl, IOptions<ConsoleAuthenticationOptions> options, IHostEnvironment environment) =>
        {
            var target = SafeReturnUrl(returnUrl);
            return string.IsNullOrWhiteSpace(options.Value.Authority)
                ? Results.Redirect($"/account/dev-sign-in?returnUrl={Uri.EscapeDataString(target)}")
                : Results.Challenge(new AuthenticationProperties { RedirectUri = target }, [OpenIdConnectDefaults.AuthenticationScheme]);
        });

        account.MapPost("/logout", async (HttpContext context, IOptions<ConsoleAuthenticationOptions> options) =>
        {
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect("/account/signed-out");
        });

        account.MapPost("/dev-sign-in", async (HttpContext context, [Microsoft.AspNetCore.Mvc.FromForm] DevSignInForm form,
            IOptions<ConsoleAuthenticationOptions> options, IHostEnvironment environment) =>
        {
            if (!environment.IsDevelopment() || !options.Value.DevelopmentSignIn || !string.IsNullOrWhiteSpace(options.Value.Authority))
                return Results.NotFound();
            if (!ConsoleRoles.All.Contains(form.Role))
                return Results.Redirect($"/account/dev-sign-in?error=role&returnUrl={Uri.EscapeDataString(SafeReturnUrl(form.ReturnUrl))}");
            var name = string.IsNullOrWhiteSpace(form.Name) ? $"dev-{form.Role}" : form.Name.Trim();
            var identity = new ClaimsIdentity(CookieAuthenticationDefaults.AuthenticationScheme, "name", ConsoleRoles.ClaimType);
            identity.AddClaim(new Claim("name", name));
            identity.AddClaim(new Claim("sub", $"dev:{name}"));
            identity.AddClaim(new Claim(ConsoleRoles.ClaimType, form.Role));
            await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
            return Results.Redirect(SafeReturnUrl(form.ReturnUrl));
        });
    }

    /// <summary>Only local paths: a sign-in must never bounce the user to another site.</summary>
    private static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\") ? returnUrl : "/";

    public sealed class DevSignInForm
    {
        public string Role { get; set; } = string.Empty;
        public string? Name { get; set; }
        public string? ReturnUrl { get; set; }
    }
}
