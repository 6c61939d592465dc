using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;

namespace BillingConsole.Engine.Commands;

// What the commands return: plain records with enum values in their snake_case spelling and amounts rounded to the
// currency's minor unit, the shape the API sends and the audit trail stores.

public sealed record AddressView(string Line1, string? Line2, string City, string PostalCode, string Country, string? Region = null);

/// <param name="TimeZone">Null: the customer is in the billing time zone.</param>
public sealed record CustomerView(Guid Id, string Name, string Email, string Currency, AddressView? Address, string? ExternalRef,
    decimal CreditBalance, DateTimeOffset CreatedAt, string CollectionMethod, int? DaysUntilDue, string? TimeZone, string? TaxId)
{
    public static CustomerView From(Customer c) => new(c.Id, c.Name, c.Email, c.Currency,
        c.Address == CustomerAddress.Empty ? null : new AddressView(c.Address.Line1, c.Address.Line2, c.Address.City, c.Address.PostalCode, c.Address.Country, c.Address.Region),
        c.ExternalRef, Amounts.Of(c.CreditBalance), c.CreatedAt, c.CollectionMethod.ToSnakeCase(), c.DaysUntilDue, c.TimeZone, c.TaxId);
}

/// <summary>The gateway token is not shown back: it is only ever needed by the gateway.</summary>
public sealed record PaymentMethodView(Guid Id, Guid CustomerId, string Gateway, string Brand, string Last4, int ExpMonth, int ExpYear,
    bool IsDefault, DateTimeOffset CreatedAt)
{
    public static PaymentMethodView From(PaymentMethod p) =>
        new(p.Id, p.CustomerId, p.Gateway, p.Brand, p.Last4, p.ExpMonth, p.ExpYear, p.IsDefault, p.CreatedAt);
}

public sealed record SubscriptionView(Guid Id, Guid CustomerId, Guid PriceId, int Quantity, string Status, DateTimeOffset CurrentPeriodStart,
    DateTimeOffset CurrentPeriodEnd, DateTimeOffset? TrialEnd, bool CancelAtPeriodEnd, DateTimeOffset? CanceledAt, DateTimeOffset? PausedAt,
    Guid? PendingPriceId, int? PendingQuantity, DateTimeOffset CreatedAt)
{
    public static SubscriptionView From(Subscription s) => new(s.Id, s.CustomerId, s.PriceId, s.Quantity, s.Status.ToSnakeCase(),
        s.CurrentPeriodStart, s.CurrentPeriodEnd, s.TrialEnd, s.CancelAtPeriodEnd, s.CanceledAt, s.PausedAt, s.PendingPriceId,
        s.PendingQuantity, s.CreatedAt);
}

public sealed record InvoiceLineView(string Kind, string Description, int Quantity, decimal UnitAmount, decimal Amount,
    DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, Guid? PriceId)
{
    public static InvoiceLineView From(InvoiceLineDraft l) => new(l.Kind.ToSnakeCase(), l.Description, l.Quantity, Amounts.Of(l.UnitAmount),
        Amounts.Of(l.Amount), l.PeriodStart, l.PeriodEnd, l.PriceId);

    public static InvoiceLineView From(InvoiceLine l) =>
        From(new InvoiceLineDraft(l.Kind, l.Description, l.Quantity, l.UnitAmount, l.Amount, l.PeriodStart, l.PeriodEnd, l.PriceId));
}

/// <summary>An issued invoice, or (Id and Number null, status "preview") one calculated but not written.</summary>
public sealed record InvoiceView(Guid? Id, string? Number, string Status, string Kind, Guid CustomerId, Guid? SubscriptionId, string Currency,
    DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, IReadOnlyList<InvoiceLineView> Lines, decimal Subtotal, decimal Tax, decimal Total,
    decimal CreditApplied, decimal AmountDue, DateTimeOffset? IssuedAt, DateTimeOffset? DueAt)
{
    public const string PreviewStatus = "preview";

    public static InvoiceView From(Invoice i) => From(i, i.Lines);

    /// <param name="lines">The invoice's lines, when they were read apart from it (a projection, not an Include).</param>
    public static InvoiceView From(Invoice i, IEnumerable<InvoiceLine> lines) => new(i.Id, i.Number, i.Status.ToSnakeCase(), i.Kind.ToSnakeCase(),
        i.CustomerId, i.SubscriptionId, i.Currency, i.PeriodStart, i.PeriodEnd, [.. lines.Select(InvoiceLineView.From)], Amounts.Of(i.Subtotal), Amounts.Of(i.Tax),
        Amounts.Of(i.Total), Amounts.Of(i.CreditApplied), Amounts.Of(i.AmountDue), i.IssuedAt, i.DueAt);

    public static InvoiceView Preview(GeneratedInvoice g) => new(null, null, PreviewStatus, g.Kind.ToSnakeCase(), g.CustomerId, g.SubscriptionId,
        g.Currency, g.PeriodStart, g.PeriodEnd, [.. g.Lines.Select(InvoiceLineView.From)], Amounts.Of(g.Subtotal), Amounts.Of(g.Tax),
        Amounts.Of(g.Total), Amounts.Of(g.CreditApplied), Amounts.Of(g.AmountDue), null, null);
}

public sealed record PlanChangeQuoteView(Guid SubscriptionId, Guid FromPriceId, int FromQuantity, Guid ToPriceId, int ToQuantity, bool IsUpgrade,
    string Behavior, DateTimeOffset QuotedAt, DateTimeOffset EffectiveAt, string Currency, IReadOnlyList<InvoiceLineView> Lines, decimal Net)
{
    public static PlanChangeQuoteView From(PlanChangeQuote q) => new(q.SubscriptionId, q.FromPrice.PriceId, q.FromQuantity, q.ToPrice.PriceId,
        q.ToQuantity, q.IsUpgrade, q.Behavior.ToSnakeCase(), q.QuotedAt, q.EffectiveAt, q.Net.Currency, [.. q.Lines.Select(InvoiceLineView.From)],
        Amounts.Of(q.Net));
}

/// <param name="Invoice">The plan-change invoice: issued (a change) or calculated (a preview); null when nothing is invoiced now.</param>
public sealed record PlanChangeView(PlanChangeQuoteView Quote, InvoiceView? Invoice, SubscriptionView Subscription);

/// <param name="Invoice">The invoice issued for a period that starts now; null for a trial.</param>
/// <param name="Discount">The discount of a coupon redeemed as the subscription started.</param>
public sealed record SubscriptionChangeView(SubscriptionView Subscription, InvoiceView? Invoice, DiscountView? Discount = null);

/// <param name="NextCursor">Pass as startingAfter for the next page; null on the last page.</param>
public sealed record InvoicePage(IReadOnlyList<InvoiceView> Data, bool HasMore, Guid? NextCursor);

public sealed record PriceView(Guid Id, Guid PlanId, string Currency, decimal Amount, string Interval, int TrialDays, bool Active)
{
    public static PriceView From(Price p) => new(p.Id, p.PlanId, p.Currency, Amounts.Of(p.Amount), p.Interval.ToSnakeCase(), p.TrialDays, p.Active);
}

public sealed record PlanView(Guid Id, string Code, string Name, string Description, bool Active, IReadOnlyList<PriceView> Prices)
{
    public static PlanView From(Plan p) => new(p.Id, p.Code, p.Name, p.Description, p.Active,
        [.. p.Prices.OrderBy(price => price.Currency).ThenBy(price => price.Interval).ThenBy(price => price.Amount.Amount).Select(PriceView.From)]);
}

public sealed record CouponView(Guid Id, string Code, string Name, decimal? PercentOff, decimal? AmountOff, string? Currency, string Duration,
    int? DurationMonths, int? MaxRedemptions, DateTimeOffset? RedeemBy, int TimesRedeemed)
{
    public static CouponView From(Coupon c) => new(c.Id, c.Code, c.Name, c.PercentOff, c.AmountOff is { } off ? Amounts.Of(off) : null, c.Currency,
        c.Duration.ToSnakeCase(), c.DurationMonths, c.MaxRedemptions, c.RedeemBy, c.TimesRedeemed);
}

/// <param name="EndsAt">Null: for as long as the subscription (or customer) lasts.</param>
public sealed record DiscountView(Guid Id, Guid CouponId, string CouponCode, Guid CustomerId, Guid? SubscriptionId, DateTimeOffset StartsAt,
    DateTimeOffset? EndsAt)
{
    public static DiscountView From(Discount d, Coupon c) => new(d.Id, c.Id, c.Code, d.CustomerId, d.SubscriptionId, d.StartsAt, d.EndsAt);
}

/// <summary>What a price migration would do, as of now: how many subscribers move and how their MRR changes (docs/analytics.md).</summary>
public sealed record PriceMigrationPreview(Guid FromPriceId, Guid ToPriceId, int Subscribers, string Currency, decimal MrrBefore, decimal MrrAfter,
    decimal MrrChange);

public sealed record PriceMigrationView(Guid Id, Guid FromPriceId, Guid ToPriceId, string When, string Status, int Expected, int Moved, int Skipped,
    string Currency, decimal ExpectedMrrChange, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt)
{
    public static PriceMigrationView From(PriceMigration m) => new(m.Id, m.FromPriceId, m.ToPriceId, m.Timing.ToSnakeCase(), m.Status.ToSnakeCase(),
        m.Expected, m.Moved, m.Skipped, m.Currency, m.ExpectedMrrChange, m.CreatedAt, m.FinishedAt);
}

/// <param name="Direction">credit or debit.</param>
/// <param name="CreditBalance">The customer's credit balance after the adjustment.</param>
public sealed record BalanceAdjustmentView(Guid Id, Guid CustomerId, string Direction, decimal Amount, string Currency, decimal CreditBalance,
    DateTimeOffset At);

/// <param name="Charge">The charge made at once; null when the invoice was sent, or the customer's credit covered it.</param>
public sealed record OneOffInvoiceIssued(InvoiceView Invoice, BillingConsole.Engine.Payments.ChargeResult? Charge);

internal static class Amounts
{
    public static decimal Of(Money money) => Math.Round(money.Amount, Currencies.MinorUnits(money.Currency), MidpointRounding.AwayFromZero);
}

public sealed record CreditNoteLineView(string Description, decimal Amount);

/// <param name="Tax">The tax <paramref name="Total"/> includes and gives back.</param>
public sealed record CreditNoteView(Guid Id, string Number, Guid InvoiceId, Guid CustomerId, Guid? RefundId, string Currency, decimal Total, decimal Tax,
    string Reason, string Settlement, string? Memo, DateTimeOffset IssuedAt, IReadOnlyList<CreditNoteLineView> Lines)
{
    public static CreditNoteView From(CreditNote n) => new(n.Id, n.Number, n.InvoiceId, n.CustomerId, n.RefundId, n.Currency, Amounts.Of(n.Total), Amounts.Of(n.Tax),
        n.Reason.ToSnakeCase(), n.Settlement.ToSnakeCase(), n.Memo, n.IssuedAt, [.. n.Lines.Select(l => new CreditNoteLineView(l.Description, Amounts.Of(l.Amount)))]);
}

/// <param name="Status">pending (sent, the gateway's outcome not known yet), succeeded or failed.</param>
/// <param name="CreditNote">The credit note the refund issued once it succeeded.</param>
public sealed record RefundView(Guid Id, Guid InvoiceId, Guid PaymentId, string Status, decimal Amount, string Currency, string Reason, string? Memo,
    string? GatewayReference, string? FailureMessage, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt, CreditNoteView? CreditNote)
{
    public static RefundView From(Refund r, CreditNote? note) => new(r.Id, r.InvoiceId, r.PaymentAttemptId, r.Status.ToSnakeCase(), Amounts.Of(r.Amount),
        r.Currency, r.Reason.ToSnakeCase(), r.Memo, r.GatewayReference, r.FailureMessage, r.CreatedAt, r.CompletedAt, note is null ? null : CreditNoteView.From(note));
}
