using BillingConsole.Engine.Accounting;
using BillingConsole.Engine.Commands;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using FluentValidation;

namespace BillingConsole.Tests.Engine.Accounting;

/// <summary>
/// The Exchange rates page's two forms through the engine: bad input is refused field by field with nothing written, and
/// the saved reporting currency and rates are what the next total is made with; a rate entered again for its pair and day
/// corrects it, audited before and after.
/// </summary>
public sealed class ExchangeRateCommandsTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("admin@example.test", "admin");
    private static readonly DateOnly May1 = new(2027, 5, 1);

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("exchange_rates");
        _engine = EngineServices.Create(_database);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    private Task<ExchangeRates> EnterAsync(EnterExchangeRate rate) =>
        _engine.InScopeAsync<ExchangeRateCommands, ExchangeRates>(c => c.EnterRateAsync(rate, Admin, Ct));

    private Task<ExchangeRates> ReportInAsync(string? currency) =>
        _engine.InScopeAsync<ExchangeRateCommands, ExchangeRates>(c => c.SaveReportingCurrencyAsync(new SaveReportingCurrency { Currency = currency, Reason = "Group reporting" }, Admin, Ct));

    [Fact]
    public async Task Bad_rates_and_currencies_are_refused_field_by_field_and_nothing_is_written()
    {
        var refusals = new (EnterExchangeRate Rate, string Field, string Message)[]
        {
            (new() { BaseCurrency = "EUR", QuoteCurrency = "USD", Rate = 0m, EffectiveOn = May1, Reason = "ECB" }, "Rate", "more than 0"),
            (new() { BaseCurrency = "EUR", QuoteCurrency = "USD", Rate = -1.1m, EffectiveOn = May1, Reason = "ECB" }, "Rate", "more than 0"),
            (new() { BaseCurrency = "EUR", QuoteCurrency = "USD", Rate = null, EffectiveOn = May1, Reason = "ECB" }, "Rate", "Enter the rate"),
            (new() { BaseCurrency = "EUR", QuoteCurrency = "eur", Rate = 1m, EffectiveOn = May1, Reason = "ECB" }, "QuoteCurrency", "two different currencies"),
            (new() { BaseCurrency = "BTC", QuoteCurrency = "USD", Rate = 1m, EffectiveOn = May1, Reason = "ECB" }, "BaseCurrency", "currencies the product bills in"),
            (new() { BaseCurrency = "EUR", QuoteCurrency = "USD", Rate = 1.1m, EffectiveOn = null, Reason = "ECB" }, "EffectiveOn", "the day the rate takes effect"),
            (new() { BaseCurrency = "EUR", QuoteCurrency = "USD", Rate = 1.1m, EffectiveOn = May1, Reason = " " }, "Reason", "Give a reason"),
        };
        foreach (var (rate, field, message) in refusals)
        {
            var refused = await Assert.ThrowsAsync<ValidationException>(() => EnterAsync(rate));
            Assert.Contains(refused.Errors, e => e.PropertyName == field && e.ErrorMessage.Contains(message));
        }
        var unknown = await Assert.ThrowsAsync<ValidationException>(() => ReportInAsync("XYZ"));
        Assert.Contains(unknown.Errors, e => e.PropertyName == "Currency");

        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        Assert.Equal((0, 0, 0), await connection.QuerySingleAsync<(int, int, int)>("""
            select (select count(*)::int from exchange_rates), (select count(*)::int from settings where key = 'reporting'),
                   (select count(*)::int from audit_log where action like 'settings.%')
            """));
        Assert.Equal("USD", (await _engine.InScopeAsync<ExchangeRateCommands, ExchangeRates>(c => c.CurrentAsync(Ct))).ReportingCurrency);
    }

    [Fact]
    public async Task The_saved_reporting_currency_and_rates_make_the_next_total_and_a_rate_entered_again_for_its_day_corrects_it()
    {
        var amounts = new BillingConsole.Domain.Common.Money[] { new(100m, "USD"), new(200m, "EUR") };
        var rate = new EnterExchangeRate { BaseCurrency = "eur", QuoteCurrency = "USD", Rate = 1.2m, EffectiveOn = May1, Reason = "Month-end rate" };

        var inDollars = await EnterAsync(rate);
        Assert.Equal(100m + 240m, inDollars.Total(amounts, May1).Amount);
        Assert.Equal(["EUR"], inDollars.Total(amounts, May1.AddDays(-1)).MissingRates);

        var inEuros = await ReportInAsync("EUR");
        Assert.Equal("EUR", inEuros.ReportingCurrency);
        Assert.Equal(Math.Round(100m / 1.2m + 200m, 2), inEuros.Total(amounts, May1).Amount);

        rate.Rate = 1.25m;
        var corrected = await EnterAsync(rate);
        Assert.Equal(280m, corrected.Total(amounts, May1.AddDays(3)).Amount);

        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        Assert.Equal(("EUR", "USD", 1.25m, 1), await connection.QuerySingleAsync<(string, string, decimal, int)>(
            "select base_currency, quote_currency, rate, (select count(*)::int from exchange_rates) from exchange_rates"));
        var audits = (await connection.QueryAsync<(string Action, string Before, string After, string Reason)>(
            "select action, coalesce(before::text, ''), after::text, reason from audit_log order by id")).ToList();
        Assert.Equal(["settings.exchange_rate_entered", "settings.reporting_currency_saved", "settings.exchange_rate_entered"], audits.Select(a => a.Action));
        Assert.Contains("1.2", audits[2].Before);
        Assert.Contains("1.25", audits[2].After);
        Assert.Contains("EUR", audits[1].After);
        Assert.Equal("Month-end rate", audits[0].Reason);
    }
}
