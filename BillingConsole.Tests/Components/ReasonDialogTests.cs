using BillingConsole.Actions;
using BillingConsole.Components.Shared;
using BillingConsole.Tests.Infrastructure;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace BillingConsole.Tests.Components;

/// <summary>The one dialog every console action goes through: a reason is required, the action runs inside it, the outcome comes back.</summary>
[PureTests]
public sealed class ReasonDialogTests : IAsyncDisposable
{
    private readonly BunitContext _context = new();
    private readonly List<string> _ran = [];
    private readonly IRenderedComponent<MudDialogProvider> _provider;

    public ReasonDialogTests()
    {
        _context.Services.AddMudServices();
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _provider = _context.Render<MudDialogProvider>();
    }

    private async Task<Task<ActionOutcome?>> OpenAsync(Func<string, Task<ActionOutcome>>? run = null, string label = "Reason")
    {
        run ??= reason =>
        {
            _ran.Add(reason);
            return Task.FromResult(new ActionOutcome(ActionStatus.Done, "Invoice INV-000001 is void."));
        };
        var dialogs = _context.Services.GetRequiredService<IDialogService>();
        Task<ActionOutcome?> asked = null!;
        // Not awaited: the dialog's task ends only when the person confirms or cancels.
        await _provider.InvokeAsync(() => { asked = ReasonDialog.AskAsync(dialogs, "Void invoice", "Void", run, "Reverses the invoice.", label); });
        _provider.WaitForElement("[data-testid=reason-confirm]");
        return asked;
    }

    private void Confirm() => _provider.Find("button[data-testid=reason-confirm]").Click();

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Confirming_without_a_reason_shows_the_message_on_the_field_and_runs_nothing(string typed)
    {
        var asked = await OpenAsync();

        if (typed.Length > 0) _provider.Find("textarea").Input(typed);
        Confirm();

        var helper = _provider.Find(".mud-input-control .mud-input-helper-text");
        Assert.Contains("Reason is required: it goes in the audit log.", helper.TextContent);
        Assert.NotEmpty(_provider.FindAll(".mud-input-error"));
        Assert.Empty(_ran);
        Assert.False(asked.IsCompleted);
    }

    [Theory]
    [InlineData("Billed twice\u0000", "NUL character")]
    [InlineData("Billed\u0007 twice", "control character U+0007")]
    [InlineData("Billed\u001b[2J twice", "control character U+001B")]
    public async Task A_reason_with_text_that_cannot_be_kept_says_so_on_the_field_and_runs_nothing(string typed, string said)
    {
        var asked = await OpenAsync();

        _provider.Find("textarea").Input(typed);
        Confirm();

        Assert.Contains(said, _provider.Find(".mud-input-control .mud-input-helper-text").TextContent);
        Assert.Empty(_ran);
        Assert.False(asked.IsCompleted);
    }

    [Fact]
    public async Task The_message_names_the_field_and_goes_away_once_something_is_typed()
    {
        await OpenAsync(label: "Note");
        Confirm();
        Assert.Contains("Note is required: it goes in the audit log.", _provider.Markup);

        _provider.Find("textarea").Input("Called the customer");

        Assert.DoesNotContain("is required", _provider.Markup);
    }

    [Fact]
    public async Task A_reason_runs_the_action_trimmed_shows_progress_meanwhile_and_returns_its_outcome()
    {
        var running = new TaskCompletionSource<ActionOutcome>();
        var asked = await OpenAsync(reason =>
        {
            _ran.Add(reason);
            return running.Task;
        });

        _provider.Find("textarea").Input("  Billed twice by mistake ");
        Confirm();

        Assert.Equal(["Billed twice by mistake"], _ran);
        _provider.WaitForElement("[data-testid=reason-progress]");
        Assert.True(_provider.Find("button[data-testid=reason-confirm]").HasAttribute("disabled"));
        Assert.True(_provider.Find("button[data-testid=reason-cancel]").HasAttribute("disabled"));
        Assert.False(asked.IsCompleted);

        var outcome = new ActionOutcome(ActionStatus.Declined, "The payment was declined (insufficient_funds).");
        await _provider.InvokeAsync(() => running.SetResult(outcome));

        Assert.Same(outcome, await asked.WaitAsync(TimeSpan.FromSeconds(10), Xunit.TestContext.Current.CancellationToken));
        _provider.WaitForAssertion(() => Assert.Empty(_provider.FindAll("[data-testid=reason-confirm]")));
    }

    [Fact]
    public async Task Cancel_returns_nothing_and_runs_nothing()
    {
        var asked = await OpenAsync();

        _provider.Find("button[data-testid=reason-cancel]").Click();

        Assert.Null(await asked.WaitAsync(TimeSpan.FromSeconds(10), Xunit.TestContext.Current.CancellationToken));
        Assert.Empty(_ran);
    }

    public ValueTask DisposeAsync() => _context.DisposeAsync();
}
