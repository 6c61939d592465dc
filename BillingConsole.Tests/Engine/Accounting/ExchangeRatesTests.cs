using BillingConsole.Domain.Common;
using BillingConsole.Engine.Accounting;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Engine.Accounting;

/// <summary>Totals in the reporting currency: the rate in force on the figure's day, either direction of a pair, and a sentence instead of a wrong total.</summary>
[PureTests]
public sealed class ExchangeRatesTests
{
    private static readonly DateOnly March1 = new(2027, 3, 1);

    private static readonly ExchangeRates InEuros = new("EUR",
    [
        new RateQuote("USD", "EUR", 0.90m, March1),
        new RateQuote("USD", "EUR", 0.80m, March1.AddMonths(1)),
        // Entered the other way round, and later than the USD rates: in force for pounds from its day.
        new RateQuote("EUR", "GBP", 0.50m, March1.AddDays(10)),
    ]);

    [Fact]
    public void Each_amount_is_converted_with_the_rate_in_force_on_the_figures_day_and_rounded_once_to_the_reporting_currency()
    {
        Money[] amounts = [new(100m, "USD"), new(50m, "EUR"), new(10.005m, "GBP")];

        var march = InEuros.Total(amounts, new DateOnly(2027, 3, 31));
        var april = InEuros.Total(amounts, new DateOnly(2027, 4, 1));

        Assert.Equal(Math.Round(90m + 50m + 10.005m / 0.50m, 2, MidpointRounding.AwayFromZero), march.Amount);
        Assert.Equal(Math.Round(80m + 50m + 20.01m, 2, MidpointRounding.AwayFromZero), april.Amount);
        Assert.Equal(("EUR", 0), (march.Currency, march.MissingRates.Count));
        Assert.Null(march.MissingSentence);
    }

    [Fact]
    public void A_currency_without_a_rate_on_the_day_gives_no_total_and_a_sentence_naming_it_and_the_day()
    {
        var beforeAnyRate = InEuros.Total([new(100m, "USD"), new(10m, "GBP"), new(5m, "EUR")], new DateOnly(2027, 3, 5));
        var yen = InEuros.Total([new(1000m, "JPY")], new DateOnly(2027, 6, 1));

        Assert.Null(beforeAnyRate.Amount);
        Assert.Equal(["GBP"], beforeAnyRate.MissingRates);
        Assert.Contains("no rate to EUR is in force on 2027-03-05 for GBP", beforeAnyRate.MissingSentence);
        Assert.Equal(["JPY"], yen.MissingRates);
        Assert.Null(InEuros.RateOn("USD", new DateOnly(2027, 2, 28)));
    }

    [Fact]
    public void The_reporting_currency_itself_needs_no_rate_and_a_later_reverse_rate_takes_over_from_an_earlier_direct_one()
    {
        var rates = new ExchangeRates("USD", [new RateQuote("EUR", "USD", 1.10m, March1), new RateQuote("USD", "EUR", 0.80m, March1.AddDays(1))]);

        Assert.Equal(1m, rates.RateOn("USD", new DateOnly(1999, 1, 1)));
        Assert.Equal(1.10m, rates.RateOn("EUR", March1));
        Assert.Equal(1m / 0.80m, rates.RateOn("EUR", March1.AddDays(1)));
        Assert.Equal(162.5m, rates.Total([new(100m, "EUR"), new(37.5m, "USD")], March1.AddDays(2)).Amount);
    }

    [Theory]
    [InlineData("USD", "USD", 1.0, "different currencies")]
    [InlineData("USD", "XXX", 1.0, "currencies the product bills in")]
    [InlineData("USD", "EUR", 0.0, "more than 0")]
    [InlineData("USD", "EUR", -1.5, "more than 0")]
    public void The_domain_refuses_a_rate_that_is_not_one(string from, string to, double rate, string message)
    {
        var refused = Assert.Throws<DomainRuleException>(() => new ExchangeRate(from, to, (decimal)rate, March1, "admin", DateTimeOffset.UnixEpoch));
        Assert.Contains(message, refused.Message);
    }
}
