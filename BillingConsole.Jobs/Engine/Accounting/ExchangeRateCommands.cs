using BillingConsole.Domain.Common;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Accounting;

/// <summary>The Exchange rates page's first form: the currency the dashboard and Analytics totals are shown in.</summary>
public sealed class SaveReportingCurrency
{
    public string? Currency { get; set; }
    public string? Reason { get; set; }
}

/// <summary>The Exchange rates page's second form: one unit of <see cref="BaseCurrency"/> is <see cref="Rate"/> units of <see cref="QuoteCurrency"/> from <see cref="EffectiveOn"/>.</summary>
public sealed class EnterExchangeRate
{
    public string? BaseCurrency { get; set; }
    public string? QuoteCurrency { get; set; }
    public decimal? Rate { get; set; }
    public DateOnly? EffectiveOn { get; set; }
    public string? Reason { get; set; }
}

internal static class ReportingRules
{
    public static IRuleBuilderOptions<T, string?> KnownCurrency<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(Currencies.IsKnown).WithMessage($"Pick one of the currencies the product bills in: {string.Join(", ", Currencies.All)}.");

    public static void AuditReason<T>(this AbstractValidator<T> validator, System.Linq.Expressions.Expression<Func<T, string?>> reason) =>
        validator.RuleFor(reason).NotEmpty().WithMessage("Give a reason: it goes in the audit log.").MaximumLength(1000).NoControlCharacters();
}

public sealed class SaveReportingCurrencyValidator : AbstractValidator<SaveReportingCurrency>
{
    public SaveReportingCurrencyValidator()
    {
        RuleFor(s => s.Currency).KnownCurrency();
        this.AuditReason(s => s.Reason);
    }
}

public sealed class EnterExchangeRateValidator : AbstractValidator<EnterExchangeRate>
{
    public EnterExchangeRateValidator()
    {
        RuleFor(r => r.BaseCurrency).KnownCurrency();
        RuleFor(r => r.QuoteCurrency).KnownCurrency()
            .Must((r, quote) => !string.Equals(quote?.Trim(), r.BaseCurrency?.Trim(), StringComparison.OrdinalIgnoreCase))
            .WithMessage("A rate is between two different currencies: pick another one here.");
        RuleFor(r => r.Rate).NotNull().WithMessage("Enter the rate, e.g. 0.92.")
            .GreaterThan(0m).WithMessage("A rate is more than 0.")
            .LessThanOrEqualTo(ExchangeRate.MaximumRate).WithMessage($"A rate is at most {ExchangeRate.MaximumRate:N0}.");
        RuleFor(r => r.EffectiveOn).NotNull().WithMessage("Enter the day the rate takes effect.");
        this.AuditReason(r => r.Reason);
    }
}

/// <summary>
/// The reporting currency and the stored exchange rates: read by the dashboard and the Analytics page, changed by an admin
/// with a reason, audited before and after. A rate entered for a pair and day that already has one corrects it.
/// </summary>
public sealed class ExchangeRateCommands(BillingDbContext db, ExchangeRateQueries queries, AuditTrail audit, TimeProvider clock,
    IValidator<SaveReportingCurrency> currencyValidator, IValidator<EnterExchangeRate> rateValidator)
{
    public Task<ExchangeRates> CurrentAsync(CancellationToken ct) => queries.CurrentAsync(ct);

    public async Task<ExchangeRates> SaveReportingCurrencyAsync(SaveReportingCurrency command, Actor actor, CancellationToken ct)
    {
        await currencyValidator.ValidateAndThrowAsync(command, ct);
        var currency = Currencies.Normalize(command.Currency!);
        var row = await db.Settings.FirstOrDefaultAsync(s => s.Key == ExchangeRates.SettingKey, ct);
        var before = ExchangeRates.CurrencyFromJson(row?.Value);
        if (row is null) db.Settings.Add(row = new SettingRecord { Key = ExchangeRates.SettingKey });
        row.Value = ExchangeRates.CurrencyToJson(currency);
        row.UpdatedAt = clock.GetUtcNow();
        row.UpdatedBy = actor.Name;
        audit.Record(actor, "settings.reporting_currency_saved", "setting", ExchangeRates.SettingKey, command.Reason!,
            new { Currency = before }, new { Currency = currency });
        await db.SaveChangesAsync(ct);
        return await CurrentAsync(ct);
    }

    public async Task<ExchangeRates> EnterRateAsync(EnterExchangeRate command, Actor actor, CancellationToken ct)
    {
        await rateValidator.ValidateAndThrowAsync(command, ct);
        var (baseCurrency, quoteCurrency) = (Currencies.Normalize(command.BaseCurrency!), Currencies.Normalize(command.QuoteCurrency!));
        var day = command.EffectiveOn!.Value;
        var now = clock.GetUtcNow();
        var rate = await db.ExchangeRates.FirstOrDefaultAsync(r => r.BaseCurrency == baseCurrency && r.QuoteCurrency == quoteCurrency && r.EffectiveOn == day, ct);
        var before = rate is null ? null : new { rate.BaseCurrency, rate.QuoteCurrency, rate.Rate, rate.EffectiveOn };
        if (rate is null) db.ExchangeRates.Add(rate = new ExchangeRate(baseCurrency, quoteCurrency, command.Rate!.Value, day, actor.Name, now));
        else rate.Correct(command.Rate!.Value, actor.Name, now);
        audit.Record(actor, "settings.exchange_rate_entered", "exchange_rate", $"{baseCurrency}/{quoteCurrency}@{day:yyyy-MM-dd}", command.Reason!,
            before, new { rate.BaseCurrency, rate.QuoteCurrency, rate.Rate, rate.EffectiveOn });
        await db.SaveChangesAsync(ct);
        return await CurrentAsync(ct);
    }
}
