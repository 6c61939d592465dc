using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Customers;

/// <summary>A gateway token for a card. The card number never reaches this system: only brand, last four digits and expiry.</summary>
public sealed class PaymentMethod : Entity
{
    private PaymentMethod() { }

    internal PaymentMethod(Guid customerId, string gateway, string token, string brand, string last4, int expMonth, int expYear, DateTimeOffset createdAt)
    {
        if (string.IsNullOrWhiteSpace(token)) throw new DomainRuleException("A payment method needs a gateway token.");
        EnsureCard(last4, expMonth, expYear);
        CustomerId = customerId;
        Gateway = gateway;
        Token = token;
        Brand = brand;
        Last4 = last4;
        ExpMonth = expMonth;
        ExpYear = expYear;
        CreatedAt = createdAt;
        IsDefault = true;
    }

    public Guid CustomerId { get; private set; }
    public string Gateway { get; private set; } = string.Empty;
    public string Token { get; private set; } = string.Empty;
    public string Brand { get; private set; } = string.Empty;
    public string Last4 { get; private set; } = string.Empty;
    public int ExpMonth { get; private set; }
    public int ExpYear { get; private set; }
    public bool IsDefault { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset? DetachedAt { get; private set; }

    internal void ClearDefault() => IsDefault = false;

    private static void EnsureCard(string last4, int expMonth, int expYear)
    {
        if (last4.Length != 4 || !last4.All(char.IsAsciiDigit)) throw new DomainRuleException("last4 must be exactly four digits.");
        if (expMonth is < 1 or > 12) throw new DomainRuleException("Expiry month must be between 1 and 12.");
        if (expYear is < 2000 or > 2100) throw new DomainRuleException("Expiry year is not plausible.");
    }

    /// <summary>
    /// The card network's updater replaced the card behind this token (a new expiry or number, Stripe's
    /// payment_method.automatically_updated). True when anything changed.
    /// </summary>
    public bool UpdateCard(string last4, int expMonth, int expYear)
    {
        if (DetachedAt is not null) throw new DomainRuleException("A detached payment method is not updated.");
        EnsureCard(last4, expMonth, expYear);
        if ((Last4, ExpMonth, ExpYear) == (last4, expMonth, expYear)) return false;
        (Last4, ExpMonth, ExpYear) = (last4, expMonth, expYear);
        return true;
    }

    public void Detach(DateTimeOffset at)
    {
        IsDefault = false;
        DetachedAt = at;
    }
}
