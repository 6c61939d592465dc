namespace BillingConsole.Persistence.DemoData;

/// <summary>The people of the demo business who act in the console: support agents and admins.</summary>
internal static class DemoStaff
{
    public const string SupportRole = "support";
    public const string AdminRole = "admin";

    public static readonly string[] SupportAgents =
    [
        "amira.haddad@northbeam.example", "jonas.weber@northbeam.example", "lucia.fernandez@northbeam.example",
        "tom.okafor@northbeam.example", "mei.chen@northbeam.example",
    ];

    public static readonly string[] Admins = ["priya.raman@northbeam.example", "daniel.kim@northbeam.example"];
}
