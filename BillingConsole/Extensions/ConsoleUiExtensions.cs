using BillingConsole.Actions;
using BillingConsole.Api;
using BillingConsole.Components;
using BillingConsole.Components.Shared;
using Hangfire;
using MudBlazor.Services;

namespace BillingConsole.Extensions;

public static class ConsoleUiExtensions
{
    /// <summary>Blazor Server (interactive server rendering) with MudBlazor.</summary>
    public static IHostApplicationBuilder AddConsoleUi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices(options =>
        {
            options.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomRight;
            options.SnackbarConfiguration.VisibleStateDuration = 6000;
        });
        builder.Services.AddAntiforgery();
        builder.Services.AddScoped<ConsoleActions>();
        builder.Services.AddScoped<ConsoleCommands>();
        return builder;
    }

    public static WebApplication UseConsole(this WebApplication app)
    {
        app.UseSecurityHeaders();
        app.UseWhen(context => ApiProblems.IsForPrograms(context.Request), programs => programs.UseMiddleware<ErrorsAsProblems>());
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
            app.UseHsts();
        }
        app.UseStatusCodePagesWithReExecute("/not-found");
        // Before authentication: an API-key look-up would need the database that is gone.
        app.UseMiddleware<ReadOnlyRefusal>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseAntiforgery();
        return app;
    }

    public static WebApplication MapConsole(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapHealthEndpoints();
        app.MapAccountEndpoints();
        app.MapCsvExports();
        app.MapInvoicePdf();
        // The dashboard's own filter would allow local requests; the admin policy decides instead.
        app.MapHangfireDashboard(SecurityHeaders.HangfirePath, new DashboardOptions { Authorization = [], AppPath = "/", DashboardTitle = "BillingConsole jobs" })
            .RequireAuthorization(ConsolePolicies.Admin);
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
