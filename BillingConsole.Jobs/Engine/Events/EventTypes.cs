namespace BillingConsole.Engine.Events;

/// <summary>
/// The event types an endpoint may ask for. The database writes them (migration OutgoingEvents) in the transaction of the
/// change: docs/events.md says which change gives which type.
/// </summary>
public static class EventTypes
{
    public const string InvoiceIssued = "invoice.issued";
    public const string InvoicePaid = "invoice.paid";
    public const string InvoiceVoided = "invoice.voided";
    public const string InvoiceUncollectible = "invoice.uncollectible";
    public const string PaymentSucceeded = "payment.succeeded";
    public const string PaymentFailed = "payment.failed";
    public const string RefundCreated = "refund.created";
    public const string SubscriptionCreated = "subscription.created";
    public const string SubscriptionUpdated = "subscription.updated";
    public const string SubscriptionCanceled = "subscription.canceled";
    public const string SubscriptionPaused = "subscription.paused";
    public const string SubscriptionResumed = "subscription.resumed";
    public const string DunningCaseOpened = "dunning_case.opened";
    public const string DunningCaseStepTaken = "dunning_case.step_taken";
    public const string DunningCaseRecovered = "dunning_case.recovered";
    public const string DunningCaseClosed = "dunning_case.closed";
    public const string CustomerUpdated = "customer.updated";

    public static readonly IReadOnlyList<string> All =
    [
        InvoiceIssued, InvoicePaid, InvoiceVoided, InvoiceUncollectible, PaymentSucceeded, PaymentFailed, RefundCreated,
        SubscriptionCreated, SubscriptionUpdated, SubscriptionCanceled, SubscriptionPaused, SubscriptionResumed,
        DunningCaseOpened, DunningCaseStepTaken, DunningCaseRecovered, DunningCaseClosed, CustomerUpdated,
    ];
}
