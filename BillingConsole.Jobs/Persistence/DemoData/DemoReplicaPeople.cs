namespace BillingConsole.Persistence.DemoData;

/// <summary>The name, email and external reference of one copy, drawn from <see cref="DemoPeople"/>'s lists and the seed.</summary>
internal readonly record struct DemoReplicaPerson(string Name, string Email, string ExternalRef);

/// <summary>
/// Who the n-th copy is. Names walk the (first name, last name) pairs with a stride that shares no factor with their count,
/// from a start the seed picks, so copies of one customer (n apart by the base's size) get different names until every
/// pair is used; the email and external reference carry n, so they never repeat.
/// </summary>
internal sealed class DemoReplicaPeople
{
    private readonly int _seed;
    private readonly int _start;
    private readonly int _stride;
    private readonly int _pairs = DemoPeople.FirstNames.Length * DemoPeople.LastNames.Length;

    public DemoReplicaPeople(int seed)
    {
        _seed = seed;
        _start = new DemoRandom(seed, 0).Next(_pairs);
        _stride = Enumerable.Range(_pairs * 5 / 8, _pairs).First(candidate => Gcd(candidate, _pairs) == 1);
    }

    public DemoReplicaPerson Copy(int ordinal)
    {
        var pair = (int)((_start + (long)ordinal * _stride) % _pairs);
        var first = DemoPeople.FirstNames[pair % DemoPeople.FirstNames.Length];
        var last = DemoPeople.LastNames[pair / DemoPeople.FirstNames.Length];
        var domain = DemoPeople.PersonalMailDomains[ordinal % DemoPeople.PersonalMailDomains.Length];
        return new DemoReplicaPerson($"{first} {last}", $"{DemoPeople.AsciiSlug(first)}.{DemoPeople.AsciiSlug(last)}.{ordinal + 1}@{domain}",
            $"crm-{_seed}-{ordinal + 1:D7}");
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}
