using BillingConsole.Tests.Infrastructure;
using BillingConsole.Domain.Common;
using NetArchTest.Rules;

namespace BillingConsole.Tests.Architecture;

/// <summary>
/// The arrows between the layers (ARCHITECTURE.md): the domain references nothing but the BCL, the engine never reaches for
/// the Hangfire entry points or the host, and gateways are adapters without a database. Read from the compiled IL, method
/// bodies included, so a dependency hidden in a local variable or a call counts too.
/// </summary>
[PureTests]
public sealed class ArchitectureTests
{
    private static readonly System.Reflection.Assembly Library = typeof(Money).Assembly;

    /// <summary>The host's namespaces (BillingConsole.dll): its API, pages, console actions and start-up extensions.</summary>
    private static readonly string[] Host =
        ["BillingConsole.Api", "BillingConsole.Actions", "BillingConsole.Commands", "BillingConsole.Components", "BillingConsole.Extensions"];

    [Fact]
    public void Domain_references_no_engine_persistence_gateway_job_read_model_EF_or_ASP_NET()
    {
        AssertNoDependency("BillingConsole.Domain",
            "BillingConsole.Engine", "BillingConsole.Persistence", "BillingConsole.Gateways", "BillingConsole.Jobs", "BillingConsole.ReadModels",
            "Microsoft.EntityFrameworkCore", "Microsoft.AspNetCore");
    }

    [Fact]
    public void Engine_references_neither_the_job_entry_points_nor_Hangfire_nor_the_host()
    {
        AssertNoDependency("BillingConsole.Engine", ["BillingConsole.Jobs", "Hangfire", .. Host]);
        Assert.DoesNotContain(Library.GetReferencedAssemblies(), name => name.Name == typeof(Program).Assembly.GetName().Name);
    }

    [Fact]
    public void Gateways_reference_neither_persistence_nor_the_engine()
    {
        AssertNoDependency("BillingConsole.Gateways", "BillingConsole.Persistence", "BillingConsole.Engine");
    }

    private static void AssertNoDependency(string layer, params string[] forbidden)
    {
        var result = Types.InAssembly(Library).That().ResideInNamespace(layer).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        var offenders = result.FailingTypes?.Select(type => type.FullName).Order().ToArray() ?? [];
        Assert.True(result.IsSuccessful, $"{layer} must not reference {string.Join(", ", forbidden)}; these types do: {string.Join(", ", offenders)}");
    }
}
