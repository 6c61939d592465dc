using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;

namespace BillingConsole.Engine.Payments;

public enum ChargeStatus
{
    Succeeded,
    Failed,
    /// <summary>The gateway did not answer in time (ERR_GATEWAY_TIMEOUT); the attempt is reconciled before any retry.</summary>
    Unknown,
    /// <summary>Nothing to charge: the invoice is not open or nothing is due.</summary>
    Refused,
    /// <summary>Another worker or agent is charging this invoice right now.</summary>
    Busy,
    /// <summary>
    /// Not sent: the gateway's circuit breaker has paused charging. Nothing was written against the customer; the charge is
    /// to be made again after <see cref="ChargeResult.RetryAt"/>.
    /// </summary>
    Deferred,
    /// <summary>
    /// The gateway took the money for an invoice already settled (paid by another attempt, or voided): recorded as received,
    /// owed back to the customer, the invoice unchanged.
    /// </summary>
    RefundDue,
}

/// <param name="Reconciled">The outcome came from asking the gateway about an earlier attempt; no new charge was made.</param>
/// <param name="RetryAt">When deferred: the time the circuit breaker lets a trial charge through.</param>
public sealed record ChargeResult(Guid InvoiceId, ChargeStatus Status, Guid? AttemptId = null, int? AttemptNumber = null,
    string? DeclineCode = null, string? Message = null, bool Reconciled = false, DateTimeOffset? RetryAt = null)
{
    public static ChargeResult Deferred(Guid invoiceId, ChargePermission refused) =>
        new(invoiceId, ChargeStatus.Deferred, RetryAt: refused.RetryAt, Message: PausedSentence(refused.RetryAt));

    /// <summary>The outcome recorded on <paramref name="attempt"/>, as the caller is told it.</summary>
    public static ChargeResult Of(PaymentAttempt attempt, Invoice invoice, ChargeStatus status, bool reconciled = false) =>
        new(invoice.Id, status, attempt.Id, attempt.AttemptNumber, attempt.DeclineCode, attempt.FailureMessage, reconciled);

    /// <summary>What a person is told when the breaker holds a charge back.</summary>
    public static string PausedSentence(DateTimeOffset? retryAt) =>
        "Charging is paused: the payment gateway is failing, so nothing was sent and nothing was recorded against the customer."
        + (retryAt is { } at ? $" The gateway is tried again at {at.UtcDateTime:HH:mm:ss} UTC." : string.Empty);
}

/// <summary>Charge outcomes are recorded, but a handler told of them failed; <see cref="Exception.InnerException"/> is the first failure.</summary>
public sealed class PaymentEventsFailedException(IReadOnlyList<Guid> invoiceIds, IReadOnlyList<Exception> failures)
    : AggregateException($"The payments of {(invoiceIds.Count == 1 ? $"invoice {invoiceIds[0]}" : $"{invoiceIds.Count} invoices")} are recorded, but {failures.Count} payment event handler call(s) failed.", failures)
{
    /// <summary>The invoices whose recorded outcomes the handlers were told of.</summary>
    public IReadOnlyList<Guid> InvoiceIds { get; } = invoiceIds;
}
