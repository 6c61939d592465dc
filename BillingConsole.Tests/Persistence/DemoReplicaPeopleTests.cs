using BillingConsole.Persistence.DemoData;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Persistence;

[PureTests]
public sealed class DemoReplicaPeopleTests
{
    private static readonly int Pairs = DemoPeople.FirstNames.Length * DemoPeople.LastNames.Length;

    /// <summary>Base sizes, among them those that share factors with the number of name pairs, or are a multiple of it.</summary>
    public static TheoryData<int> BaseSizes => [1, 7, 2000, Pairs / 2, Pairs, 3 * Pairs];

    [Theory]
    [MemberData(nameof(BaseSizes))]
    public void Copies_of_one_customer_never_share_a_name_nor_take_the_originals(int baseSize)
    {
        var people = new DemoReplicaPeople(42);
        const string original = "Emma Smith";
        foreach (var baseIndex in new[] { 0, baseSize / 2, baseSize - 1 })
        {
            var names = Enumerable.Range(1, 50)
                .Select(copy => people.Copy((copy - 1) * baseSize + baseIndex, baseIndex, copy, original).Name).ToList();
            Assert.Equal(names.Count, names.Distinct().Count());
            Assert.DoesNotContain(original, names);
        }
    }

    [Fact]
    public void Emails_and_references_never_repeat_and_the_seed_decides_the_names()
    {
        var people = new DemoReplicaPeople(42);
        var copies = Enumerable.Range(0, 20_000).Select(ordinal => people.Copy(ordinal, ordinal % 2000, ordinal / 2000 + 1, "Base customer")).ToList();
        Assert.Equal(copies.Count, copies.Select(c => c.Email).Distinct().Count());
        Assert.Equal(copies.Count, copies.Select(c => c.ExternalRef).Distinct().Count());
        Assert.All(copies, c => Assert.EndsWith(".example", c.Email));

        Assert.Equal(copies[123], new DemoReplicaPeople(42).Copy(123, 123, 1, "Base customer"));
        Assert.NotEqual(copies.Take(10).Select(c => c.Name), Enumerable.Range(0, 10).Select(i => new DemoReplicaPeople(7).Copy(i, i, 1, "Base customer").Name));
    }
}
