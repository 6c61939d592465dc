using BillingConsole.Configuration;

namespace BillingConsole.Extensions;

/// <summary>
/// Outside Development, refuses to start with a secrets file that others can read. "Secrets:File" names the file systemd
/// reads as EnvironmentFile (deploy/billing-svc.service), which must be chmod 600: its connection string, client secret and
/// gateway keys are the keys to the money. (The development sign-in is refused outside Development by the authentication set-up.)
/// </summary>
public static class ProductionSafetyExtensions
{
    public const string SecretsFileSetting = "Secrets:File";

    private const UnixFileMode OpenToOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    public static IHostApplicationBuilder CheckProductionSafety(this IHostApplicationBuilder builder)
    {
        if (builder.Environment.IsDevelopment() || builder.Configuration[SecretsFileSetting] is not { Length: > 0 } path) return builder;
        if (!File.Exists(path))
            throw new StartupException($"The secrets file {path} named by {SecretsFileSetting} does not exist.");
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & OpenToOthers) != 0)
            throw new StartupException(
                $"The secrets file {path} ({SecretsFileSetting}) can be read or changed by other users (mode {Octal(File.GetUnixFileMode(path))}): run 'chmod 600 {path}'.");
        return builder;
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0x1FF, 8);
}
