using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// What happens after charges are recorded (dunning opens or closes cases, notices are sent). Every registered handler is
/// called after the outcomes are committed, with all the outcomes recorded together (one charge, or a batch's), so that it
/// can handle them in a few statements; with none registered nothing else happens.
/// </summary>
public interface IPaymentEvents
{
    Task OnPaymentsFailedAsync(IReadOnlyList<(PaymentAttempt Attempt, Invoice Invoice)> failed, CancellationToken ct);

    Task OnPaymentsSucceededAsync(IReadOnlyList<(PaymentAttempt Attempt, Invoice Invoice)> succeeded, CancellationToken ct);
}
