using BillingConsole.Configuration;
using BillingConsole.Engine.PayPage;
using BillingConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace BillingConsole.Tests.Engine.PayPage;

[PureTests]
public sealed class PayLinksTests
{
    private static readonly DateTimeOffset Now = new(2027, 3, 15, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _clock = new(Now);
    private readonly PayLinks _links;

    public PayLinksTests() =>
        _links = new PayLinks(new EphemeralDataProtectionProvider(),
            Options.Create(new PayPageOptions { PublicBaseUrl = "https://billing.example.com/", LinkLifetimeDays = 14 }), _clock);

    [Fact]
    public void A_link_names_its_customer_and_card_until_it_expires()
    {
        var customer = Guid.NewGuid();
        var card = Guid.NewGuid();
        var url = _links.UrlFor(customer, card);
        Assert.StartsWith("https://billing.example.com/pay/", url);

        var reading = _links.Read(url["https://billing.example.com/pay/".Length..]);
        Assert.Equal(new PayLink(customer, card, Now.AddDays(14)), reading.Link);
        Assert.False(reading.Link!.IsSpent(card));
        Assert.True(reading.Link.IsSpent(Guid.NewGuid()));

        _clock.Advance(TimeSpan.FromDays(14));
        Assert.Equal(PayLinkRefusal.Expired, _links.Read(url["https://billing.example.com/pay/".Length..]).Refusal);
    }

    [Fact]
    public void A_customer_without_a_card_gets_a_link_spent_by_their_first_card()
    {
        var link = _links.Read(_links.TokenFor(Guid.NewGuid(), null)).Link!;
        Assert.Null(link.MethodWhenIssued);
        Assert.False(link.IsSpent(null));
        Assert.True(link.IsSpent(Guid.NewGuid()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-token")]
    [InlineData("CfDJ8AAAAAAAAAAAAAAAAAAAAAA")]
    public void A_forged_token_is_refused(string token) =>
        Assert.Equal(PayLinkRefusal.Invalid, _links.Read(token).Refusal);

    [Fact]
    public void An_altered_token_is_refused()
    {
        var token = _links.TokenFor(Guid.NewGuid(), null).ToCharArray();
        token[^5] = token[^5] == 'A' ? 'B' : 'A';
        Assert.Equal(PayLinkRefusal.Invalid, _links.Read(new string(token)).Refusal);
    }
}
