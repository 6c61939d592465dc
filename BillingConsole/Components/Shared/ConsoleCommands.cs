using BillingConsole.Engine.Commands;
using BillingConsole.Extensions;
using FluentValidation;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;

namespace BillingConsole.Components.Shared;

/// <summary>The signed-in user's action was refused by the server's policy check.</summary>
public sealed class ActionRefusedException() : Exception("Your role does not allow this action.");

/// <summary>
/// How a console page calls the engine: each call in its own DI scope (one unit of work per action, not one DbContext for
/// the life of a circuit), and each change only after the policy is checked again on the server for the signed-in user,
/// who becomes the change's <see cref="Actor"/>.
/// </summary>
public sealed class ConsoleCommands(IServiceScopeFactory scopes, AuthenticationStateProvider authentication, IAuthorizationService authorization)
{
    public async Task<T> RunAsync<TService, T>(string policy, Func<TService, Actor, Task<T>> command) where TService : notnull
    {
        var actor = await RequireAsync(policy);
        await using var scope = scopes.CreateAsyncScope();
        return await command(scope.ServiceProvider.GetRequiredService<TService>(), actor);
    }

    public async Task<T> ReadAsync<TService, T>(Func<TService, Task<T>> query) where TService : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<TService>());
    }

    private async Task<Actor> RequireAsync(string policy)
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        if (!(await authorization.AuthorizeAsync(user, policy)).Succeeded) throw new ActionRefusedException();
        return new Actor(user.Identity?.Name ?? "unknown", user.HighestRole());
    }

    /// <summary>A validator's failures by field ("Ladder", not "Ladder[2]"), the first message of each.</summary>
    public static Dictionary<string, string> FieldErrors(IEnumerable<FluentValidation.Results.ValidationFailure> failures) =>
        failures.GroupBy(f => f.PropertyName.Split('[')[0]).ToDictionary(g => g.Key, g => g.First().ErrorMessage);

    public static Dictionary<string, string> FieldErrors(ValidationException e) => FieldErrors(e.Errors);
}
