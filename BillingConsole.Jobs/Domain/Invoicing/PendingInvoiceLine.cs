using BillingConsole.Domain.Common;

namespace BillingConsole.Domain.Invoicing;

/// <summary>
/// A proration line of a plan change made with <c>NextInvoice</c>: it waits here, owed but not yet invoiced, until the
/// subscription's next cycle invoice carries it (or the final invoice when the subscription ends first).
/// </summary>
public sealed class PendingInvoiceLine : Entity
{
    private decimal _unitAmount;
    private decimal _amount;

    private PendingInvoiceLine() { }

    /// <param name="position">The line's place among the lines of its plan change (credit, then charge), kept on the invoice.</param>
    public PendingInvoiceLine(Guid subscriptionId, Guid customerId, InvoiceLine line, int position, DateTimeOffset createdAt)
    {
        if (!line.IsProration) throw new DomainRuleException("Only proration lines wait for the next invoice.");
        SubscriptionId = subscriptionId;
        CustomerId = customerId;
        Kind = line.Kind;
        Description = line.Description;
        Quantity = line.Quantity;
        Currency = line.Currency;
        _unitAmount = line.UnitAmount.Amount;
        _amount = line.Amount.Amount;
        PeriodStart = line.PeriodStart;
        PeriodEnd = line.PeriodEnd;
        PriceId = line.PriceId;
        Position = position;
        CreatedAt = createdAt;
    }

    public Guid SubscriptionId { get; private set; }
    public Guid CustomerId { get; private set; }
    public InvoiceLineKind Kind { get; private set; }
    public string Description { get; private set; } = string.Empty;
    public int Quantity { get; private set; }
    public string Currency { get; private set; } = "USD";
    public Money UnitAmount => new(_unitAmount, Currency);
    public Money Amount => new(_amount, Currency);
    public DateTimeOffset PeriodStart { get; private set; }
    public DateTimeOffset PeriodEnd { get; private set; }
    public Guid? PriceId { get; private set; }
    public int Position { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>The invoice that carried the line; null while it waits.</summary>
    public Guid? InvoiceId { get; private set; }

    public void MarkInvoiced(Guid invoiceId)
    {
        if (InvoiceId is not null) throw new DomainRuleException("The line is already on an invoice.");
        InvoiceId = invoiceId;
    }

    public InvoiceLine ToLine() => new(Kind, Description, Quantity, UnitAmount, Amount, PeriodStart, PeriodEnd, PriceId);
}
