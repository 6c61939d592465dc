using BillingConsole.Engine.Accounting;
using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>The reporting currency and every stored rate (a small table), as the dashboard, the Analytics page and the Exchange rates page read them.</summary>
public sealed class ExchangeRateQueries(NpgsqlDataSource dataSource)
{
    public async Task<ExchangeRates> CurrentAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var setting = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "select value::text from settings where key = @key", new { key = ExchangeRates.SettingKey }, cancellationToken: ct));
        var rates = await connection.QueryAsync<(string Base, string Quote, decimal Rate, DateTime EffectiveOn)>(new CommandDefinition(
            "select base_currency, quote_currency, rate, effective_on from exchange_rates", cancellationToken: ct));
        return new ExchangeRates(ExchangeRates.CurrencyFromJson(setting),
            rates.Select(r => new RateQuote(r.Base, r.Quote, r.Rate, DateOnly.FromDateTime(r.EffectiveOn))).ToList());
    }
}
