using BillingConsole;
using BillingConsole.Commands;
using BillingConsole.Configuration;
using BillingConsole.Extensions;
using BillingConsole.Jobs;

try
{
    if (await Commands.TryRunAsync(args) is { } exitCode) return exitCode;
    var builder = WebApplication.CreateBuilder(args);
    builder.AddObservability();
    builder.AddBillingEngine();
    builder.AddBillingJobs();
    builder.AddConsoleAuthentication();
    builder.AddConsoleUi();

    var app = builder.Build();
    await app.PrepareDatabaseAsync(args);
    app.UseConsole();
    app.MapConsole();
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (StartupProblem.Explain(e) is { } sentence)
{
    await Console.Error.WriteLineAsync(sentence);
    return 1;
}

public partial class Program;
