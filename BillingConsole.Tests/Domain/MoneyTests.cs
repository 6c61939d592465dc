using System.Globalization;
using BillingConsole.Domain.Common;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Domain;

[PureTests]
public sealed class MoneyTests
{
    private static readonly Money Dollars = new(10m, "USD");
    private static readonly Money Euros = new(10m, "EUR");

    [Fact]
    public void Arithmetic_and_comparison_across_currencies_throw()
    {
        Assert.Throws<InvalidOperationException>(() => Dollars + Euros);
        Assert.Throws<InvalidOperationException>(() => Dollars - Euros);
        Assert.Throws<InvalidOperationException>(() => Dollars < Euros);
        Assert.Throws<InvalidOperationException>(() => Money.Max(Dollars, Euros));
    }

    [Fact]
    public void Currency_codes_are_normalised_and_unknown_ones_refused()
    {
        Assert.Equal(new Money(1m, "USD"), new Money(1m, " usd "));
        Assert.Throws<ArgumentException>(() => new Money(1m, "XXX"));
    }

    [Theory]
    [InlineData("USD", "1.005", "1.01")]
    [InlineData("USD", "-1.005", "-1.01")]
    [InlineData("USD", "2.345", "2.35")]
    [InlineData("USD", "2.3449", "2.34")]
    [InlineData("USD", "-0.004", "0")]
    [InlineData("EUR", "0.125", "0.13")]
    [InlineData("JPY", "1200.5", "1201")]
    [InlineData("JPY", "-1200.5", "-1201")]
    [InlineData("JPY", "0.49", "0")]
    [InlineData("JPY", "2.5", "3")]
    public void Rounding_is_half_away_from_zero_to_the_minor_unit(string currency, string amount, string expected) =>
        Assert.Equal(new Money(Parse(expected), currency), new Money(Parse(amount), currency).Rounded());

    [Theory]
    [InlineData("USD", "1234.5", "$1,234.50")]
    [InlineData("EUR", "-12", "-€12.00")]
    [InlineData("JPY", "1200", "¥1,200")]
    [InlineData("GBP", "0.5", "£0.50")]
    [InlineData("USD", "1234567.891", "$1,234,567.89")]
    public void Formatting_shows_symbol_grouping_and_minor_units(string currency, string amount, string expected) =>
        Assert.Equal(expected, new Money(Parse(amount), currency).ToString());

    private static decimal Parse(string amount) => decimal.Parse(amount, CultureInfo.InvariantCulture);
}
