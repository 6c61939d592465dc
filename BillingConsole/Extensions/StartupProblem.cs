using BillingConsole.Configuration;
using Microsoft.Extensions.Options;

namespace BillingConsole.Extensions;

/// <summary>Turns a configuration mistake found at start-up into the one sentence an operator needs.</summary>
public static class StartupProblem
{
    public static string? Explain(Exception exception) => exception switch
    {
        StartupException startup => "BillingConsole cannot start: " + startup.Message,
        OptionsValidationException options => "BillingConsole cannot start: " + options.Failures.First(),
        _ => null,
    };
}
