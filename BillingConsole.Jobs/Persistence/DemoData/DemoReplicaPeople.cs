namespace BillingConsole.Persistence.DemoData;

/// <summary>The name, email and external reference of one copy, drawn from <see cref="DemoPeople"/>'s lists and the seed.</summary>
internal readonly record struct DemoReplicaPerson(string Name, string Email, string ExternalRef);

/// <summary>
/// Who a copy is. Names walk the (first name, last name) pairs: each base customer starts at its own pair and each further
/// copy of it moves on by a stride that shares no factor with the number of pairs, so copies of one customer get different
/// names until every pair is used, whatever the base's size; a pair that would repeat the original's name is passed over.
/// The email and external reference carry the copy's ordinal, so they never repeat. The seed chooses where the walk starts.
/// </summary>
internal sealed class DemoReplicaPeople
{
    private static readonly int Pairs = DemoPeople.FirstNames.Length * DemoPeople.LastNames.Length;
    private static readonly int BaseStride = CoprimeNear(Pairs * 5 / 8);
    private static readonly int CopyStride = CoprimeNear(Pairs * 3 / 8);

    private readonly int _seed;
    private readonly int _start;

    public DemoReplicaPeople(int seed)
    {
        _seed = seed;
        _start = new DemoRandom(seed, 0).Next(Pairs);
    }

    /// <param name="ordinal">The copy's place among all copies (0, 1, …).</param>
    /// <param name="baseIndex">Its base customer's place in the base.</param>
    /// <param name="copyNumber">Which copy of that customer it is (1, 2, …).</param>
    /// <param name="originalName">The base customer's name, which the copy does not take.</param>
    public DemoReplicaPerson Copy(int ordinal, int baseIndex, int copyNumber, string originalName)
    {
        var pair = (int)((_start + (long)baseIndex * BaseStride + (long)copyNumber * CopyStride) % Pairs);
        if (NameOf(pair) == originalName) pair = (pair + 1) % Pairs;
        var (first, last) = (DemoPeople.FirstNames[pair % DemoPeople.FirstNames.Length], DemoPeople.LastNames[pair / DemoPeople.FirstNames.Length]);
        var domain = DemoPeople.PersonalMailDomains[ordinal % DemoPeople.PersonalMailDomains.Length];
        return new DemoReplicaPerson($"{first} {last}", $"{DemoPeople.AsciiSlug(first)}.{DemoPeople.AsciiSlug(last)}.{ordinal + 1}@{domain}",
            $"crm-{_seed}-{ordinal + 1:D7}");
    }

    private static string NameOf(int pair) =>
        $"{DemoPeople.FirstNames[pair % DemoPeople.FirstNames.Length]} {DemoPeople.LastNames[pair / DemoPeople.FirstNames.Length]}";

    private static int CoprimeNear(int from) => Enumerable.Range(from, Pairs).First(candidate => Gcd(candidate, Pairs) == 1);

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}
