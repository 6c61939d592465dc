namespace BillingConsole.Domain.Common;

/// <summary>
/// One stored exchange rate: from <see cref="EffectiveOn"/> (a UTC day) one unit of <see cref="BaseCurrency"/> is
/// <see cref="Rate"/> units of <see cref="QuoteCurrency"/>, until a later rate of the same pair takes over. Entered by an
/// admin; one per pair and day, so entering it again for the same day corrects it.
/// </summary>
public sealed class ExchangeRate
{
    /// <summary>The most a rate may be: far above any real pair, low enough to keep conversions within numeric(19,4).</summary>
    public const decimal MaximumRate = 1_000_000m;

    public long Id { get; private set; }
    public string BaseCurrency { get; private set; } = string.Empty;
    public string QuoteCurrency { get; private set; } = string.Empty;
    public decimal Rate { get; private set; }
    public DateOnly EffectiveOn { get; private set; }
    public string EnteredBy { get; private set; } = string.Empty;
    public DateTimeOffset EnteredAt { get; private set; }

    private ExchangeRate() { }

    public ExchangeRate(string baseCurrency, string quoteCurrency, decimal rate, DateOnly effectiveOn, string enteredBy, DateTimeOffset enteredAt)
    {
        if (!Currencies.IsKnown(baseCurrency) || !Currencies.IsKnown(quoteCurrency))
            throw new DomainRuleException($"A rate is between two of the currencies the product bills in ({string.Join(", ", Currencies.All)}).");
        BaseCurrency = Currencies.Normalize(baseCurrency);
        QuoteCurrency = Currencies.Normalize(quoteCurrency);
        if (BaseCurrency == QuoteCurrency) throw new DomainRuleException($"A rate is between two different currencies, not {BaseCurrency} and itself.");
        EffectiveOn = effectiveOn;
        Correct(rate, enteredBy, enteredAt);
    }

    /// <summary>Replaces the rate of this pair and day, as when an admin enters it again.</summary>
    public void Correct(decimal rate, string enteredBy, DateTimeOffset enteredAt)
    {
        if (rate <= 0m || rate > MaximumRate) throw new DomainRuleException($"A rate is more than 0 and at most {MaximumRate:N0}.");
        Rate = rate;
        EnteredBy = enteredBy;
        EnteredAt = enteredAt;
    }
}
