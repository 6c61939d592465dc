using System.Net;
using BillingConsole.Engine.Events;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Engine.Events;

[PureTests]
public sealed class EndpointAddressGuardTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.20.30.40")]
    [InlineData("172.16.5.4")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fd00::5")]
    [InlineData("::ffff:10.0.0.1")]
    public void A_loopback_link_local_or_private_address_is_refused_with_a_sentence(string address)
    {
        var refusal = EndpointAddressGuard.Refusal(IPAddress.Parse(address), []);

        Assert.Equal($"{IPAddress.Parse(address)} is a loopback, link-local or private address; events are only sent there when an admin allows its network (Events:AllowedNetworks).", refusal);
    }

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("2606:2800:21f:cb07:6820:80da:af6b:8b2c")]
    [InlineData("172.32.0.1")]
    public void A_public_address_is_allowed(string address) =>
        Assert.Null(EndpointAddressGuard.Refusal(IPAddress.Parse(address), []));

    [Fact]
    public void An_allowed_network_lets_its_addresses_through_and_no_other_private_one()
    {
        IReadOnlyList<IPNetwork> allowed = [IPNetwork.Parse("10.0.0.0/8")];

        Assert.Null(EndpointAddressGuard.Refusal(IPAddress.Parse("10.1.2.3"), allowed));
        Assert.NotNull(EndpointAddressGuard.Refusal(IPAddress.Parse("192.168.1.1"), allowed));
        Assert.NotNull(EndpointAddressGuard.Refusal(IPAddress.Parse("127.0.0.1"), allowed));
    }
}
