using System.Security.Claims;

namespace BillingConsole.Extensions;

/// <summary>The console's three roles. Each includes the ones before it: admin ⊃ support ⊃ finance.</summary>
public static class ConsoleRoles
{
    public const string Finance = "finance";
    public const string Support = "support";
    public const string Admin = "admin";
    public static readonly IReadOnlyList<string> All = [Finance, Support, Admin];

    /// <summary>The claim type that carries the console role, after mapping from the provider's own role values.</summary>
    public const string ClaimType = "billing_role";

    public static string? HighestRole(this ClaimsPrincipal user) =>
        All.LastOrDefault(role => user.HasClaim(ClaimType, role));
}

public static class ConsolePolicies
{
    /// <summary>Read everything: finance, support and admin.</summary>
    public const string Read = "console.read";
    /// <summary>Retry payments, reset and pause dunning, add notes: support and admin.</summary>
    public const string Support = "console.support";
    /// <summary>Settings, voids, billing runs and the Hangfire dashboard: admin only.</summary>
    public const string Admin = "console.admin";
}
