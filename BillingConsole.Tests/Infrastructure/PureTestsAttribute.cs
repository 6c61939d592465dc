using Xunit.v3;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// Marks a test class that needs no server: no PostgreSQL, Redis, browser, console host, socket or child process. Its tests
/// carry the trait <c>Category=Pure</c>, which <c>./test.sh --pure</c> runs without starting anything;
/// <see cref="PureTestsGuardTests"/> fails when a marked class reaches for any of those.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class PureTestsAttribute : Attribute, ITraitAttribute
{
    public const string TraitName = "Category";
    public const string TraitValue = "Pure";

    public IReadOnlyCollection<KeyValuePair<string, string>> GetTraits() => [new(TraitName, TraitValue)];
}

/// <summary>
/// The pure run, set by <c>./test.sh --pure</c> (BILLING_TEST_PURE=1). xUnit.net creates the assembly fixtures for every run,
/// so in this one they start nothing and refuse to be used.
/// </summary>
public static class PureRun
{
    public static bool IsOn => Environment.GetEnvironmentVariable("BILLING_TEST_PURE") == "1";

    public static InvalidOperationException NotStarted(string what) =>
        new($"No {what} in the pure run (./test.sh --pure): a test that needs one is not pure, so its class must not be marked [PureTests].");
}
