using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// What happens after a charge is recorded (dunning opens or closes a case, a notice is sent). Every registered handler is
/// called after the outcome is committed; with none registered nothing else happens.
/// </summary>
public interface IPaymentEvents
{
    Task OnPaymentFailedAsync(PaymentAttempt attempt, Invoice invoice, CancellationToken ct);

    Task OnPaymentSucceededAsync(PaymentAttempt attempt, Invoice invoice, CancellationToken ct);
}
