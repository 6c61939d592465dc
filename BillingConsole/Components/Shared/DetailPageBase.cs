using System.Security.Claims;
using BillingConsole.Actions;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace BillingConsole.Components.Shared;

/// <summary>
/// What every detail page does: load what it shows, and run an action through the reason dialog, report the outcome in a
/// snackbar and load again. The actions themselves check the user's policy on the server (<see cref="ConsoleActions"/>).
/// </summary>
public abstract class DetailPageBase : ConsoleComponentBase
{
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    protected abstract Task LoadAsync();

    /// <summary>What a live update reloads when someone else changes what the page shows: by default everything.</summary>
    protected virtual Task RefreshAsync() => LoadAsync();

    protected override Task OnParametersSetAsync() => LoadAsync();

    /// <summary>
    /// A page whose id matches nothing shows the console's not-found page instead (404 on the first response, so browsers,
    /// link checkers and crawlers see it), which says what was not found and links back to its list.
    /// </summary>
    protected void NotFoundWhen(bool missing)
    {
        if (missing) Navigation.NotFound();
    }

    protected async Task ActAsync(string title, string confirmText, Func<ClaimsPrincipal, string, Task<ActionOutcome>> action,
        string? message = null, string label = "Reason", Color confirmColor = Color.Primary)
    {
        var user = await UserAsync();
        var outcome = await ReasonDialog.AskAsync(Dialogs, title, confirmText, reason => action(user, reason), message, label, confirmColor);
        if (outcome is null) return;
        Report(outcome);
        await LoadAsync();
    }

    /// <summary>Support sends one of the customer's emails again: a new notification, audited with the reason.</summary>
    protected Task ResendNotificationAsync(Guid notificationId) =>
        ActAsync("Send the email again", "Resend", async (user, reason) => await Actions.ResendNotificationAsync(user, notificationId, reason),
            "The same email is written again and sent to the customer's current address.");
}
