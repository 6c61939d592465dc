using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Catalog;

/// <summary>How long a discount lasts: the next invoice only, a number of months, or for as long as it is applied.</summary>
public enum CouponDuration { Once, Repeating, Forever }

/// <summary>
/// A reusable offer: a percentage or a fixed amount off each recurring period charge, for a duration, redeemable a limited
/// number of times and until an expiry when those are set. Redeeming it makes a <see cref="Discount"/>.
/// </summary>
public sealed class Coupon : Entity
{
    public const int MaxRepeatingMonths = 120;

    private decimal? _amountOff;

    private Coupon() { }

    /// <param name="percentOff">Between 0 (exclusive) and 100; or null with <paramref name="amountOff"/>.</param>
    /// <param name="amountOff">A positive amount off each period charge, in the currency of the customers it is for.</param>
    /// <param name="durationMonths">With <see cref="CouponDuration.Repeating"/> only.</param>
    public Coupon(string code, string name, decimal? percentOff, Money? amountOff, CouponDuration duration, int? durationMonths,
        int? maxRedemptions, DateTimeOffset? redeemBy, DateTimeOffset createdAt)
    {
        if (string.IsNullOrWhiteSpace(code)) throw new DomainRuleException("A coupon needs a code.");
        if (string.IsNullOrWhiteSpace(name)) throw new DomainRuleException("A coupon needs a name.");
        if ((percentOff is null) == (amountOff is null)) throw new DomainRuleException("A coupon takes either a percentage or an amount off, not both.");
        if (percentOff is <= 0m or > 100m) throw new DomainRuleException("A percentage off is more than 0 and at most 100.");
        if (amountOff is { IsPositive: false }) throw new DomainRuleException("An amount off is more than zero.");
        if ((duration == CouponDuration.Repeating) != durationMonths.HasValue)
            throw new DomainRuleException("A repeating coupon needs its number of months; the others take none.");
        if (durationMonths is < 1 or > MaxRepeatingMonths) throw new DomainRuleException($"A repeating coupon lasts 1 to {MaxRepeatingMonths} months.");
        if (maxRedemptions is < 1) throw new DomainRuleException("A redemption limit is at least 1.");
        Code = code.Trim();
        Name = name.Trim();
        PercentOff = percentOff;
        _amountOff = amountOff?.Rounded().Amount;
        Currency = amountOff?.Currency;
        Duration = duration;
        DurationMonths = durationMonths;
        MaxRedemptions = maxRedemptions;
        RedeemBy = redeemBy;
        CreatedAt = createdAt;
    }

    public string Code { get; private set; } = string.Empty;
    public string Name { get; private set; } = string.Empty;
    public decimal? PercentOff { get; private set; }
    /// <summary>The currency of <see cref="AmountOff"/>; null for a percentage.</summary>
    public string? Currency { get; private set; }
    public Money? AmountOff => _amountOff is { } amount ? new Money(amount, Currency!) : null;
    public CouponDuration Duration { get; private set; }
    public int? DurationMonths { get; private set; }
    public int? MaxRedemptions { get; private set; }
    public DateTimeOffset? RedeemBy { get; private set; }
    public int TimesRedeemed { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>How many months of period starts the discount covers from its start; null for ever.</summary>
    public int? MonthsCovered => Duration switch
    {
        CouponDuration.Once => 1,
        CouponDuration.Repeating => DurationMonths,
        _ => null,
    };

    /// <summary>Counts one redemption for a customer billed in <paramref name="currency"/>; throws when it cannot be redeemed.</summary>
    public void Redeem(string currency, DateTimeOffset at)
    {
        if (RedeemBy is { } expiry && at >= expiry) throw new DomainRuleException($"The coupon {Code} expired on {expiry:yyyy-MM-dd}.");
        if (MaxRedemptions is { } limit && TimesRedeemed >= limit)
            throw new DomainRuleException($"The coupon {Code} has reached its redemption limit of {limit}.");
        if (Currency is { } own && own != Currencies.Normalize(currency))
            throw new DomainRuleException($"The coupon {Code} takes an amount off in {own}; this customer is billed in {Currencies.Normalize(currency)}.");
        TimesRedeemed++;
    }
}

/// <summary>
/// A coupon redeemed for one subscription, or for every subscription of a customer (<see cref="SubscriptionId"/> null).
/// It reduces the recurring charge of each invoice whose period starts in [<see cref="StartsAt"/>, <see cref="EndsAt"/>).
/// A subscription's own discount wins over its customer's; a new one replaces the one before (which ends then).
/// </summary>
public sealed class Discount : Entity
{
    private Discount() { }

    public Discount(Coupon coupon, Guid customerId, Guid? subscriptionId, DateTimeOffset startsAt, DateTimeOffset? endsAt, DateTimeOffset createdAt)
    {
        if (endsAt <= startsAt) throw new DomainRuleException("A discount must end after it starts.");
        CouponId = coupon.Id;
        CustomerId = customerId;
        SubscriptionId = subscriptionId;
        StartsAt = startsAt;
        EndsAt = endsAt;
        CreatedAt = createdAt;
    }

    public Guid CouponId { get; private set; }
    public Guid CustomerId { get; private set; }
    public Guid? SubscriptionId { get; private set; }
    public DateTimeOffset StartsAt { get; private set; }
    public DateTimeOffset? EndsAt { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>A newer discount takes over from <paramref name="at"/>: this one covers nothing from then on.</summary>
    public void EndAt(DateTimeOffset at)
    {
        if (EndsAt is { } end && end <= at) return;
        EndsAt = at < StartsAt ? StartsAt : at;
    }
}
