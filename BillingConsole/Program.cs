using BillingConsole;
using BillingConsole.Commands;
using BillingConsole.Extensions;
using BillingConsole.Jobs;
using BillingConsole.PayPage;

try
{
    if (HostCommands.Handles(args)) return await HostCommands.RunAsync(args);
    var builder = WebApplication.CreateBuilder(args);
    builder.CheckProductionSafety();
    builder.AddObservability();
    builder.AddTelemetry();
    builder.AddBillingEngine();
    builder.AddBillingJobs();
    builder.AddConsoleAuthentication();
    builder.AddConsoleUi();
    builder.AddUpstreamApi();
    builder.AddGrpcApi();
    builder.AddGatewayWebhooks();
    builder.AddRateLimits();
    builder.AddReverseProxySupport();
    builder.AddDemoSeeding(args);

    var app = builder.Build();
    await app.PrepareDatabaseAsync(args);
    app.UseConsole();
    app.MapConsole();
    app.MapMetrics();
    app.MapUpstreamApi();
    app.MapGrpcApi();
    app.MapGatewayWebhooks();
    app.MapPayPage();
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (StartupProblem.Explain(e) is { } sentence)
{
    await Console.Error.WriteLineAsync(sentence);
    return 1;
}

public partial class Program;
