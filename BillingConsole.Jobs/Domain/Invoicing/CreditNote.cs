using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;

namespace BillingConsole.Domain.Invoicing;

/// <summary>
/// What a credit note did with the amount it credits: took it off what an open invoice still owed, put it on the customer's
/// credit balance (a paid invoice), or documented money refunded through the gateway.
/// </summary>
public enum CreditNoteSettlement { AmountDueReduced, CustomerCredited, Refunded }

/// <summary>
/// A numbered document that takes back part or all of an invoice: its lines, its reason and what it did with the amount.
/// Issued only through <see cref="Invoice.Credit"/>, which decides the settlement and keeps the invoice's total credited
/// within its total.
/// </summary>
public sealed class CreditNote : Entity
{
    private readonly List<CreditNoteLine> _lines = [];
    private decimal _total;
    private decimal _tax;

    private CreditNote() { }

    internal CreditNote(Invoice invoice, string number, IReadOnlyList<CreditNoteLine> lines, CreditReason reason, string? memo,
        CreditNoteSettlement settlement, Guid? refundId, Money tax, DateTimeOffset at)
    {
        if (string.IsNullOrWhiteSpace(number)) throw new DomainRuleException("A credit note needs a number.");
        if (lines.Count == 0) throw new DomainRuleException("A credit note needs at least one line.");
        Number = number;
        InvoiceId = invoice.Id;
        CustomerId = invoice.CustomerId;
        Currency = invoice.Currency;
        _lines.AddRange(lines);
        _total = lines.Aggregate(Money.Zero(Currency), (sum, line) => sum + line.Amount).Amount;
        _tax = tax.Amount;
        Reason = reason;
        Memo = memo;
        Settlement = settlement;
        RefundId = refundId;
        IssuedAt = at;
    }

    public string Number { get; private set; } = string.Empty;
    public Guid InvoiceId { get; private set; }
    public Guid CustomerId { get; private set; }
    public Guid? RefundId { get; private set; }
    public string Currency { get; private set; } = "USD";
    public Money Total => new(_total, Currency);

    /// <summary>The tax the total includes, given back to the customer and owed to the tax authority no more.</summary>
    public Money Tax => new(_tax, Currency);

    /// <summary>The total without its tax: the revenue taken back.</summary>
    public Money Net => Total - Tax;
    public CreditReason Reason { get; private set; }
    public string? Memo { get; private set; }
    public CreditNoteSettlement Settlement { get; private set; }
    public DateTimeOffset IssuedAt { get; private set; }
    public IReadOnlyList<CreditNoteLine> Lines => _lines.AsReadOnly();
}

public sealed class CreditNoteLine : Entity
{
    private decimal _amount;

    private CreditNoteLine() { }

    public CreditNoteLine(string description, Money amount)
    {
        if (string.IsNullOrWhiteSpace(description)) throw new DomainRuleException("A credit note line needs a description.");
        if (!amount.IsPositive) throw new DomainRuleException("A credit note line must be more than zero.");
        Description = description;
        Currency = amount.Currency;
        _amount = amount.Amount;
    }

    public Guid CreditNoteId { get; private set; }
    public string Description { get; private set; } = string.Empty;
    public string Currency { get; private set; } = "USD";
    public Money Amount => new(_amount, Currency);
}
