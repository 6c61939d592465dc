using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;

namespace BillingConsole.Domain.Invoicing;

public enum InvoiceStatus { Draft, Open, Paid, Void, Uncollectible }

public enum InvoiceEvent { Finalized, Paid, Voided, MarkedUncollectible, Reopened }

/// <summary>Why an invoice exists: a subscription's period, an immediate plan change, or a one-off.</summary>
public enum InvoiceKind { SubscriptionCycle, PlanChange, OneOff }

public sealed class Invoice : Entity
{
    public static readonly StateMachine<InvoiceStatus, InvoiceEvent> Lifecycle = new(
        (InvoiceStatus.Draft, InvoiceEvent.Finalized, InvoiceStatus.Open),
        (InvoiceStatus.Draft, InvoiceEvent.Voided, InvoiceStatus.Void),
        (InvoiceStatus.Open, InvoiceEvent.Paid, InvoiceStatus.Paid),
        (InvoiceStatus.Open, InvoiceEvent.Voided, InvoiceStatus.Void),
        (InvoiceStatus.Open, InvoiceEvent.MarkedUncollectible, InvoiceStatus.Uncollectible),
        (InvoiceStatus.Uncollectible, InvoiceEvent.Paid, InvoiceStatus.Paid),
        (InvoiceStatus.Uncollectible, InvoiceEvent.Voided, InvoiceStatus.Void),
        (InvoiceStatus.Uncollectible, InvoiceEvent.Reopened, InvoiceStatus.Open));

    private readonly List<InvoiceLine> _lines = [];
    private decimal _subtotal;
    private decimal _tax;
    private decimal _total;
    private decimal _creditApplied;
    private decimal _amountPaid;
    private decimal _amountWrittenOff;
    private decimal _amountCredited;

    private Invoice() { }

    /// <summary>Builds a draft from a calculated invoice (see Engine.InvoiceGenerator).</summary>
    public Invoice(Guid customerId, Guid? subscriptionId, InvoiceKind kind, string currency,
        DateTimeOffset periodStart, DateTimeOffset periodEnd, IEnumerable<InvoiceLine> lines,
        Money tax, Money creditApplied, DateTimeOffset createdAt, Guid? billingRunId = null)
    {
        Currency = Currencies.Normalize(currency);
        CustomerId = customerId;
        SubscriptionId = subscriptionId;
        Kind = kind;
        PeriodStart = periodStart;
        PeriodEnd = periodEnd;
        CreatedAt = createdAt;
        BillingRunId = billingRunId;
        Status = InvoiceStatus.Draft;
        _lines.AddRange(lines);
        var subtotal = _lines.Aggregate(Money.Zero(Currency), (sum, line) => sum + line.Amount);
        var total = subtotal + tax;
        if (creditApplied.IsNegative || creditApplied > Money.Max(total, Money.Zero(Currency)))
            throw new DomainRuleException("Credit applied must be between zero and the invoice total.");
        _subtotal = subtotal.Amount;
        _tax = tax.Amount;
        _total = total.Amount;
        _creditApplied = creditApplied.Amount;
    }

    public string? Number { get; private set; }
    public Guid CustomerId { get; private set; }
    public Guid? SubscriptionId { get; private set; }
    public InvoiceKind Kind { get; private set; }
    public InvoiceStatus Status { get; private set; }
    public string Currency { get; private set; } = "USD";
    public DateTimeOffset PeriodStart { get; private set; }
    public DateTimeOffset PeriodEnd { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset? IssuedAt { get; private set; }
    public DateTimeOffset? DueAt { get; private set; }
    public DateTimeOffset? PaidAt { get; private set; }
    public DateTimeOffset? VoidedAt { get; private set; }
    public DateTimeOffset? MarkedUncollectibleAt { get; private set; }
    public Guid? BillingRunId { get; private set; }
    public int AttemptCount { get; private set; }
    /// <summary>How this invoice is collected when it says so itself (a one-off: charged at once, or sent); null follows its customer.</summary>
    public CollectionMethod? CollectionMethod { get; private set; }
    public IReadOnlyList<InvoiceLine> Lines => _lines.AsReadOnly();

    public Money Subtotal => new(_subtotal, Currency);
    public Money Tax => new(_tax, Currency);
    /// <summary>Subtotal plus tax; negative when proration credits exceed the charges.</summary>
    public Money Total => new(_total, Currency);
    public Money CreditApplied => new(_creditApplied, Currency);
    public Money AmountPaid => new(_amountPaid, Currency);
    public Money AmountWrittenOff => new(_amountWrittenOff, Currency);
    /// <summary>What the invoice's credit notes took back, refunds included.</summary>
    public Money AmountCredited => new(_amountCredited, Currency);
    /// <summary>What credit notes may still take back: never more, in all, than the invoice's total.</summary>
    public Money Creditable => Money.Max(Total - AmountCredited, Money.Zero(Currency));
    /// <summary>What the customer still owes on this invoice.</summary>
    public Money AmountDue => Status is InvoiceStatus.Open
        ? Money.Max(Total - CreditApplied - AmountPaid - AmountCredited, Money.Zero(Currency))
        : Money.Zero(Currency);
    /// <summary>What the discount lines take off the subtotal, as a positive amount (zero without a discount).</summary>
    public Money Discount => _lines.Where(line => line.Kind == InvoiceLineKind.Discount)
        .Aggregate(Money.Zero(Currency), (sum, line) => sum - line.Amount);
    /// <summary>What the customer owed when the invoice was issued: total less credit, never negative.</summary>
    public Money AmountPayable => Money.Max(Total - CreditApplied, Money.Zero(Currency));

    private void Fire(InvoiceEvent on) => Status = Lifecycle.Fire(Status, on);

    /// <summary>Collects this invoice by <paramref name="method"/>, whatever its customer's method; decided before it is issued.</summary>
    public void CollectBy(CollectionMethod method)
    {
        if (Status != InvoiceStatus.Draft) throw new DomainRuleException("How an invoice is collected is decided before it is issued.");
        CollectionMethod = method;
    }

    /// <summary>Issues the invoice. One with nothing to pay (covered by credit or zero) is settled at once.</summary>
    public void Finalize(string number, DateTimeOffset at, TimeSpan paymentTerms)
    {
        if (string.IsNullOrWhiteSpace(number)) throw new DomainRuleException("An invoice needs a number.");
        Fire(InvoiceEvent.Finalized);
        Number = number;
        IssuedAt = at;
        DueAt = at + paymentTerms;
        if (AmountPayable.IsZero) Settle(at);
    }

    public void RecordAttempt() => AttemptCount++;

    /// <summary>Takes back an attempt that never reached the gateway (the circuit breaker held it back).</summary>
    public void WithdrawAttempt()
    {
        if (AttemptCount == 0) throw new DomainRuleException("The invoice has no attempt to take back.");
        AttemptCount--;
    }

    /// <summary>A successful payment of the full amount still due.</summary>
    public Money Pay(DateTimeOffset at)
    {
        var amount = Status == InvoiceStatus.Uncollectible ? AmountWrittenOff : AmountDue;
        Settle(at);
        _amountPaid += amount.Amount;
        _amountWrittenOff = 0m;
        return amount;
    }

    /// <summary>Pays part or all of an open invoice from the customer's credit balance; settles it when nothing is left to pay.</summary>
    public void ApplyCredit(Money amount, DateTimeOffset at)
    {
        if (Status != InvoiceStatus.Open) throw new DomainRuleException("Credit can only be applied to an open invoice.");
        if (!amount.IsPositive || amount > AmountDue) throw new DomainRuleException("Credit applied must be more than zero and at most the amount due.");
        _creditApplied += amount.Amount;
        if (AmountDue.IsZero) Settle(at);
    }

    private void Settle(DateTimeOffset at)
    {
        Fire(InvoiceEvent.Paid);
        PaidAt = at;
    }

    /// <summary>
    /// Issues a credit note for <paramref name="lines"/>. On an open invoice it takes the amount off what is due (settling the
    /// invoice when nothing is left); on a paid one it credits the customer's balance, or documents the refund
    /// <paramref name="refundId"/> names. Either way the invoice's credit notes never take back more than its total.
    /// </summary>
    public CreditNote Credit(string number, IReadOnlyList<CreditNoteLine> lines, CreditReason reason, string? memo, Guid? refundId, DateTimeOffset at)
    {
        var amount = lines.Aggregate(Money.Zero(Currency), (sum, line) => sum + line.Amount);
        var settlement = (Status, refundId) switch
        {
            (InvoiceStatus.Paid, null) => CreditNoteSettlement.CustomerCredited,
            (InvoiceStatus.Paid, _) => CreditNoteSettlement.Refunded,
            (InvoiceStatus.Open, null) => CreditNoteSettlement.AmountDueReduced,
            _ => throw new DomainRuleException($"Only an open or paid invoice can be credited; this one is {Status.ToSnakeCase().Replace('_', ' ')}."),
        };
        var limit = settlement == CreditNoteSettlement.AmountDueReduced ? AmountDue : Creditable;
        if (amount > limit)
            throw new DomainRuleException(settlement == CreditNoteSettlement.AmountDueReduced
                ? $"The credit note of {amount} is more than the {limit} still due on this invoice."
                : $"The credit note of {amount} is more than the {limit} of this invoice not yet credited.");
        var note = new CreditNote(this, number, lines, reason, memo, settlement, refundId, TaxShare(AmountCredited + amount) - TaxShare(AmountCredited), at);
        _amountCredited += amount.Amount;
        if (settlement == CreditNoteSettlement.AmountDueReduced && AmountDue.IsZero) Settle(at);
        return note;
    }

    /// <summary>The tax its credit notes gave back: the sum of their <see cref="CreditNote.Tax"/>.</summary>
    public Money TaxCredited => TaxShare(AmountCredited);

    /// <summary>
    /// The tax within <paramref name="credited"/> of the total: the invoice's share of tax, rounded once on the running sum so
    /// that credit notes crediting the whole invoice give back exactly its tax.
    /// </summary>
    private Money TaxShare(Money credited) =>
        Total.IsPositive ? new Money(credited.Amount * _tax / _total, Currency).Rounded() : Money.Zero(Currency);

    /// <summary>Voids an invoice; returns what was still owed so the ledger can reverse it.</summary>
    public Money Void(DateTimeOffset at)
    {
        // A void reverses the invoice as issued; what a credit note took back is already reversed.
        if (AmountCredited.IsPositive) throw new DomainRuleException("An invoice with credit notes cannot be voided; credit what is still due instead.");
        var outstanding = Status == InvoiceStatus.Uncollectible ? AmountWrittenOff : AmountDue;
        Fire(InvoiceEvent.Voided);
        VoidedAt = at;
        return outstanding;
    }

    /// <summary>Gives up on collecting; returns the amount written off.</summary>
    public Money MarkUncollectible(DateTimeOffset at)
    {
        var outstanding = AmountDue;
        Fire(InvoiceEvent.MarkedUncollectible);
        _amountWrittenOff = outstanding.Amount;
        MarkedUncollectibleAt = at;
        return outstanding;
    }

    /// <summary>
    /// Takes back a write-off: the invoice is open again and owes what was written off. Returns that amount; read
    /// <see cref="MarkedUncollectibleAt"/> before, since the write-off being reversed is the one made then.
    /// </summary>
    public Money Reopen()
    {
        var writtenOff = AmountWrittenOff;
        Fire(InvoiceEvent.Reopened);
        _amountWrittenOff = 0m;
        MarkedUncollectibleAt = null;
        return writtenOff;
    }
}

/// <summary>What a line is; a <see cref="Discount"/> line is negative and is contra-revenue in the ledger.</summary>
public enum InvoiceLineKind { Recurring, ProrationCredit, ProrationCharge, OneOff, Discount }

public sealed class InvoiceLine : Entity
{
    private decimal _unitAmount;
    private decimal _amount;
    private decimal _taxAmount;

    private InvoiceLine() { }

    public InvoiceLine(InvoiceLineKind kind, string description, int quantity, Money unitAmount, Money amount,
        DateTimeOffset periodStart, DateTimeOffset periodEnd, Guid? priceId, InvoiceLineTax? tax = null)
    {
        if (quantity < 1) throw new DomainRuleException("A line's quantity must be at least 1.");
        if (string.IsNullOrWhiteSpace(description)) throw new DomainRuleException("A line needs a description.");
        if (unitAmount.Currency != amount.Currency) throw new DomainRuleException("A line is in one currency.");
        Kind = kind;
        Description = description;
        Quantity = quantity;
        Currency = amount.Currency;
        _unitAmount = unitAmount.Amount;
        _amount = amount.Amount;
        PeriodStart = periodStart;
        PeriodEnd = periodEnd;
        PriceId = priceId;
        if (tax is not null)
        {
            if (tax.Amount.Currency != amount.Currency) throw new DomainRuleException("A line's tax is in the line's currency.");
            if (tax.Rate is < 0m or > 1m) throw new DomainRuleException("A tax rate is between 0 and 1.");
            if (tax.ReverseCharge && (tax.Rate != 0m || !tax.Amount.IsZero)) throw new DomainRuleException("A reverse-charged line carries no tax.");
            TaxRate = tax.Rate;
            _taxAmount = tax.Amount.Amount;
            ReverseCharge = tax.ReverseCharge;
            TaxCountry = tax.Country;
            TaxRegion = tax.Region;
        }
    }

    public Guid InvoiceId { get; private set; }
    public InvoiceLineKind Kind { get; private set; }
    public string Description { get; private set; } = string.Empty;
    public int Quantity { get; private set; }
    public string Currency { get; private set; } = "USD";
    public Money UnitAmount => new(_unitAmount, Currency);
    public Money Amount => new(_amount, Currency);
    public DateTimeOffset PeriodStart { get; private set; }
    public DateTimeOffset PeriodEnd { get; private set; }
    public Guid? PriceId { get; private set; }
    /// <summary>The rate the line was taxed at when issued (a fraction); 0 when reverse-charged.</summary>
    public decimal TaxRate { get; private set; }
    /// <summary>The line's share of the invoice's tax; the lines' shares add up to it.</summary>
    public Money TaxAmount => new(_taxAmount, Currency);
    /// <summary>The customer accounts for the VAT (an EU business in another member state than the seller).</summary>
    public bool ReverseCharge { get; private set; }
    /// <summary>The billing country the line was taxed for (empty when no address was known), and its region where one applied.</summary>
    public string TaxCountry { get; private set; } = string.Empty;
    public string? TaxRegion { get; private set; }
    public bool IsProration => Kind is InvoiceLineKind.ProrationCredit or InvoiceLineKind.ProrationCharge;
}

/// <summary>The tax of one line as issued: where it was taxed, its rate, its share of the invoice's tax, and whether it was reverse-charged.</summary>
public sealed record InvoiceLineTax(string Country, string? Region, decimal Rate, Money Amount, bool ReverseCharge);
