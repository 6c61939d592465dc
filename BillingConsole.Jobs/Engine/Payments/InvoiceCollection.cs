using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;

namespace BillingConsole.Engine.Payments;

public enum CollectionStage
{
    NotIssued,
    Paid,
    Void,
    WrittenOff,
    NothingDue,
    /// <summary>Charged automatically once the collection delay has passed.</summary>
    ChargeScheduled,
    /// <summary>The collection delay has passed; the auto-collection job charges it at its next pass.</summary>
    ChargeDue,
    /// <summary>Charged automatically, but the customer has no card: the charge will be declined into dunning.</summary>
    NoPaymentMethod,
    /// <summary>Sent to the customer (send_invoice), who pays it by its due date; never charged.</summary>
    AwaitingCustomer,
    /// <summary>Sent to the customer and past its due date; still never charged.</summary>
    Overdue,
    /// <summary>Charged at least once; what follows is dunning's.</summary>
    Attempted,
}

/// <summary>What the collection of an invoice depends on, as stored.</summary>
public sealed record CollectionFacts(InvoiceStatus Status, decimal AmountDue, int AttemptCount, DateTimeOffset? IssuedAt, DateTimeOffset? DueAt,
    DateTimeOffset? PaidAt, CollectionMethod Method, bool HasPaymentMethod);

/// <summary>
/// Where an invoice stands in being collected, with one sentence for the console, so that an open invoice never waits
/// without a reason shown. The rule it states is the auto-collection job's (see <see cref="AutoCollector"/>).
/// </summary>
public sealed record InvoiceCollection(CollectionStage Stage, string Sentence)
{
    public static InvoiceCollection Of(CollectionFacts invoice, TimeSpan autoCollectionDelay, DateTimeOffset now)
    {
        switch (invoice.Status)
        {
            case InvoiceStatus.Draft: return new(CollectionStage.NotIssued, "Not issued yet: nothing is collected on a draft.");
            case InvoiceStatus.Paid: return new(CollectionStage.Paid, $"Paid{(invoice.PaidAt is { } paid ? $" on {Utc(paid)}" : string.Empty)}.");
            case InvoiceStatus.Void: return new(CollectionStage.Void, "Void: nothing to collect.");
            case InvoiceStatus.Uncollectible: return new(CollectionStage.WrittenOff, "Written off as uncollectible: no longer charged; a late payment still settles it.");
        }
        if (invoice.AmountDue <= 0) return new(CollectionStage.NothingDue, "Nothing is due.");
        if (invoice.AttemptCount > 0)
            return new(CollectionStage.Attempted,
                $"Charged {Times(invoice.AttemptCount)} without success so far: further charges are dunning's (see the attempts and the dunning case).");
        if (invoice.Method == CollectionMethod.SendInvoice)
        {
            var due = invoice.DueAt is { } at ? at.UtcDateTime.ToString("yyyy-MM-dd") : "its due date";
            return invoice.DueAt is { } dueAt && dueAt < now
                ? new(CollectionStage.Overdue, $"Overdue since {due}: awaiting payment by the customer (send invoice); never charged automatically.")
                : new(CollectionStage.AwaitingCustomer, $"Awaiting payment by the customer until {due} (send invoice); never charged automatically.");
        }
        var chargeAt = Utc((invoice.IssuedAt ?? now) + autoCollectionDelay);
        if (!invoice.HasPaymentMethod)
            return new(CollectionStage.NoPaymentMethod,
                $"No payment method on file: the automatic charge after {chargeAt} will be declined and go to dunning unless a card is attached first.");
        return (invoice.IssuedAt ?? now) + autoCollectionDelay > now
            ? new(CollectionStage.ChargeScheduled, $"Charged automatically after {chargeAt}.")
            : new(CollectionStage.ChargeDue, $"Due for its automatic charge since {chargeAt}: the collection job, every five minutes, charges it at its next pass.");
    }

    private static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm") + " UTC";

    private static string Times(int count) => count == 1 ? "once" : $"{count} times";
}
