using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Persistence;
using Microsoft.Extensions.Logging;

namespace BillingConsole.Engine.Payments;

/// <summary>The fan-out of a recorded charge outcome to every <see cref="IPaymentEvents"/> handler, in the charge's unit of work.</summary>
public sealed class PaymentEventsNotifier(BillingDbContext db, IEnumerable<IPaymentEvents> events, ILogger<PaymentEventsNotifier> logger)
{
    /// <summary>
    /// Tells every handler of an outcome already committed (dunning opens or closes the case). One handler's failure does not
    /// keep the others from running; it is logged and, once all have run, thrown to the caller, whose job then fails where an
    /// operator sees it. Nothing recorded is undone: the reconciliation job opens the case of a failed invoice left without one.
    /// </summary>
    public async Task NotifyAsync(PaymentAttempt attempt, Invoice invoice, ChargeStatus status, CancellationToken ct)
    {
        if (status is not (ChargeStatus.Succeeded or ChargeStatus.Failed)) return;
        List<Exception>? failures = null;
        foreach (var handler in events)
        {
            try
            {
                if (status == ChargeStatus.Succeeded) await handler.OnPaymentSucceededAsync(attempt, invoice, ct);
                else await handler.OnPaymentFailedAsync(attempt, invoice, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Payment event handler {Handler} failed for invoice {InvoiceId}; the {Status} charge is recorded",
                    handler.GetType().Name, invoice.Id, status.ToSnakeCase());
                // What the handler left unsaved must not ride along with the next save of this unit of work.
                db.ChangeTracker.Clear();
                (failures ??= []).Add(e);
            }
        }
        if (failures is not null) throw new PaymentEventsFailedException(invoice.Id, failures);
    }
}
