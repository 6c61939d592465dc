using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Catalog;

public sealed class Plan : Entity
{
    private readonly List<Price> _prices = [];

    private Plan() { }

    public Plan(string code, string name, string description)
    {
        if (string.IsNullOrWhiteSpace(code)) throw new DomainRuleException("A plan needs a code.");
        if (string.IsNullOrWhiteSpace(name)) throw new DomainRuleException("A plan needs a name.");
        Code = code.Trim();
        Name = name.Trim();
        Description = description;
        Active = true;
    }

    public string Code { get; private set; } = string.Empty;
    public string Name { get; private set; } = string.Empty;
    public string Description { get; private set; } = string.Empty;
    public bool Active { get; private set; }
    public IReadOnlyCollection<Price> Prices => _prices.AsReadOnly();

    public Price AddPrice(Money amount, BillingInterval interval, int trialDays)
    {
        var price = new Price(Id, amount, interval, trialDays);
        _prices.Add(price);
        return price;
    }

    public void Retire() => Active = false;
}

public enum BillingInterval { Month, Year }

public sealed class Price : Entity
{
    private decimal _amount;

    private Price() { }

    internal Price(Guid planId, Money amount, BillingInterval interval, int trialDays)
    {
        if (amount.IsNegative) throw new DomainRuleException("A price must not be negative.");
        if (trialDays is < 0 or > 730) throw new DomainRuleException("Trial days must be between 0 and 730.");
        PlanId = planId;
        _amount = amount.Rounded().Amount;
        Currency = amount.Currency;
        Interval = interval;
        TrialDays = trialDays;
        Active = true;
    }

    public Guid PlanId { get; private set; }
    public string Currency { get; private set; } = "USD";
    public Money Amount => new(_amount, Currency);
    public BillingInterval Interval { get; private set; }
    public int TrialDays { get; private set; }
    public bool Active { get; private set; }

    /// <summary>Monthly recurring revenue of one unit: yearly prices count a twelfth.</summary>
    public Money MonthlyAmount => MonthlyEquivalent(Amount, Interval);

    /// <summary>
    /// An amount per interval as an amount per month, unrounded. Divides rather than multiplying by 1/12, which is
    /// inexact in decimal (120 × (1/12) = 9.99…96, so a $120 year would look cheaper than a $10 month).
    /// </summary>
    public static Money MonthlyEquivalent(Money amount, BillingInterval interval) =>
        interval == BillingInterval.Year ? new Money(amount.Amount / 12m, amount.Currency) : amount;

    /// <summary>Archives the price: subscriptions that have it keep it; nothing new can take it.</summary>
    public void Retire()
    {
        if (!Active) throw new DomainRuleException("This price is already archived.");
        Active = false;
    }
}
