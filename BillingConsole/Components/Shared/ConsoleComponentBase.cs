using System.Security.Claims;
using BillingConsole.Actions;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace BillingConsole.Components.Shared;

/// <summary>
/// What every console page or panel that acts needs: the engine through <see cref="ConsoleActions"/> (which checks the
/// user's policy on the server), the signed-in user to pass it, and the snackbar to report an outcome.
/// </summary>
public abstract class ConsoleComponentBase : ComponentBase
{
    [Inject] protected ConsoleActions Actions { get; set; } = default!;
    [Inject] protected ISnackbar Snackbar { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected async Task<ClaimsPrincipal> UserAsync() => (await AuthenticationState).User;

    protected void Report(ActionOutcome outcome) => Snackbar.Add(outcome.Message, outcome.Status switch
    {
        ActionStatus.Done => Severity.Success,
        ActionStatus.Declined => Severity.Warning,
        _ => Severity.Error,
    });
}
