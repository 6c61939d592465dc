using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Persistence;
using Microsoft.Extensions.Logging;

namespace BillingConsole.Engine.Payments;

/// <summary>The fan-out of recorded charge outcomes to every <see cref="IPaymentEvents"/> handler, in the charge's unit of work.</summary>
public sealed class PaymentEventsNotifier(BillingDbContext db, IEnumerable<IPaymentEvents> events, ILogger<PaymentEventsNotifier> logger)
{
    /// <summary>
    /// Tells every handler of outcomes already committed (dunning opens or closes the cases), the failures and the successes
    /// each in one call. One handler's failure does not keep the others from running; it is logged and, once all have run,
    /// thrown to the caller, whose job then fails where an operator sees it. Nothing recorded is undone: the reconciliation
    /// job opens the case of a failed invoice left without one.
    /// </summary>
    public async Task NotifyAsync(IReadOnlyList<(PaymentAttempt Attempt, Invoice Invoice, ChargeStatus Status)> outcomes, CancellationToken ct)
    {
        var failed = outcomes.Where(o => o.Status == ChargeStatus.Failed).Select(o => (o.Attempt, o.Invoice)).ToList();
        var succeeded = outcomes.Where(o => o.Status == ChargeStatus.Succeeded).Select(o => (o.Attempt, o.Invoice)).ToList();
        List<Exception>? failures = null;
        foreach (var handler in events)
        {
            foreach (var (told, status) in new[] { (failed, ChargeStatus.Failed), (succeeded, ChargeStatus.Succeeded) })
            {
                if (told.Count == 0) continue;
                try
                {
                    if (status == ChargeStatus.Succeeded) await handler.OnPaymentsSucceededAsync(told, ct);
                    else await handler.OnPaymentsFailedAsync(told, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Payment event handler {Handler} failed for invoices {InvoiceIds}; the {Status} charges are recorded",
                        handler.GetType().Name, told.Select(t => t.Invoice.Id).ToArray(), status.ToSnakeCase());
                    // What the handler left unsaved must not ride along with the next save of this unit of work.
                    db.ChangeTracker.Clear();
                    (failures ??= []).Add(e);
                }
            }
        }
        if (failures is not null) throw new PaymentEventsFailedException([.. outcomes.Select(o => o.Invoice.Id)], failures);
    }
}
