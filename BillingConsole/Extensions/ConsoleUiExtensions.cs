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
        return builder;
    }

    public static WebApplication UseConsole(this WebApplication app)
    {
        // First, so that everything after it sees the client's address and scheme, not the proxy's.
        app.UseForwardedHeaders();
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
        // The dashboard's own filter would allow local requests; the admin policy decides instead. Read-only: its Trigger
        // now, Requeue and Delete would bill, charge or drop a charge without the reason and audit entry the console's own
        // actions record (Run billing now, Retry now, bulk retry), so the dashboard only shows the jobs.
        app.MapHangfireDashboard(SecurityHeaders.HangfirePath, new DashboardOptions
            {
                Authorization = [], AppPath = "/", DashboardTitle = "BillingConsole jobs (read-only: act from the console)", IsReadOnlyFunc = _ => true,
            })
            .RequireAuthorization(ConsolePolicies.Admin);
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
