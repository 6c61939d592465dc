namespace BillingConsole.Engine.Notifications;

/// <summary>
/// The kinds of email the product sends, each written with its own template. A notify step of the escalation ladder has a
/// kind of its own, named by its day (dunning_notice_day_10), which starts from the shipped dunning notice until an admin
/// saves a template for it.
/// </summary>
public static class NotificationKinds
{
    public const string InvoiceIssued = "invoice_issued";
    public const string PaymentFailed = "payment_failed";
    public const string PaymentAuthenticationRequired = "payment_authentication_required";
    public const string RetryScheduled = "retry_scheduled";
    public const string PaymentReceived = "payment_received";
    public const string DunningNotice = "dunning_notice";
    public const string FinalNotice = "final_notice";
    public const string SubscriptionCanceled = "subscription_canceled";
    public const string SubscriptionUnpaid = "subscription_unpaid";
    public const string CardExpiring = "card_expiring";
    public const string CardUpdateLink = "card_update_link";

    private const string LadderNoticePrefix = "dunning_notice_day_";

    /// <summary>The kinds that ship with a default template, in the order the settings page lists them.</summary>
    public static readonly IReadOnlyList<string> Shipped =
        [InvoiceIssued, PaymentFailed, PaymentAuthenticationRequired, RetryScheduled, PaymentReceived, DunningNotice, FinalNotice, SubscriptionCanceled, SubscriptionUnpaid, CardExpiring, CardUpdateLink];

    /// <summary>The shipped template a kind starts from.</summary>
    public static string ShippedTemplateOf(string kind) => kind.StartsWith(LadderNoticePrefix, StringComparison.Ordinal) ? DunningNotice : kind;

    public static bool IsKnown(string kind) =>
        Shipped.Contains(kind) || (kind.StartsWith(LadderNoticePrefix, StringComparison.Ordinal)
            && int.TryParse(kind.AsSpan(LadderNoticePrefix.Length), out var day) && day > 0);

    /// <summary>What a person calls it.</summary>
    public static string Title(string kind) => kind switch
    {
        InvoiceIssued => "Invoice issued",
        PaymentFailed => "Payment failed",
        PaymentAuthenticationRequired => "Payment needs the customer's confirmation",
        RetryScheduled => "Retry scheduled",
        PaymentReceived => "Payment received (receipt)",
        DunningNotice => "Dunning notice (ladder default)",
        FinalNotice => "Final notice before the final action",
        SubscriptionCanceled => "Subscription canceled by dunning",
        SubscriptionUnpaid => "Subscription marked unpaid by dunning",
        CardExpiring => "Card expiring next month",
        CardUpdateLink => "Card-update link sent by support",
        _ when kind.StartsWith(LadderNoticePrefix, StringComparison.Ordinal) => $"Dunning notice, day {kind[LadderNoticePrefix.Length..]} of the ladder",
        _ => kind,
    };
}
