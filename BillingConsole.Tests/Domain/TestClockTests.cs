using BillingConsole.Domain.Common;
using BillingConsole.Domain.TestClocks;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Domain;

[PureTests]
public sealed class TestClockTests
{
    private static readonly DateTimeOffset Start = new(2027, 2, 1, 0, 5, 0, TimeSpan.Zero);

    private static TestClock Clock() => new("Rehearsal", Start, "admin@example.test", Start);

    [Fact]
    public void A_clock_moves_forward_and_never_back()
    {
        var clock = Clock();

        clock.MoveTo(Start.AddDays(3));
        var back = Assert.Throws<DomainRuleException>(() => clock.MoveTo(Start.AddDays(2)));

        Assert.Equal(Start.AddDays(3), clock.FrozenTime);
        Assert.Equal("A test clock only moves forward: it is at 2027-02-04 00:05 UTC already.", back.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void A_clock_needs_a_name(string name) =>
        Assert.Equal("Give the test clock a name.", Assert.Throws<DomainRuleException>(() => new TestClock(name, Start, "admin", Start)).Message);

    [Fact]
    public void A_clock_name_has_at_most_100_characters() =>
        Assert.Throws<DomainRuleException>(() => new TestClock(new string('x', TestClock.MaxNameLength + 1), Start, "admin", Start));

    [Fact]
    public void A_customer_joins_one_test_clock_for_good()
    {
        var customer = new BillingConsole.Domain.Customers.Customer("Ann", "ann@example.test", "USD", BillingConsole.Domain.Customers.CustomerAddress.Empty, Start);
        var clockId = Guid.NewGuid();

        customer.PutOnTestClock(clockId);

        Assert.Equal(clockId, customer.TestClockId);
        Assert.Throws<DomainRuleException>(() => customer.PutOnTestClock(Guid.NewGuid()));
    }
}
