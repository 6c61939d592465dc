using BillingConsole.Configuration;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Gateways;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// Sends the charge of a saved attempt under the circuit breaker's permission, through the <see cref="DeadlineGateway"/>, and
/// tells the breaker how it ended. A charge the gateway left unanswered is logged for the operators (ERR_GATEWAY_TIMEOUT).
/// </summary>
public sealed class ChargeSender(DeadlineGateway gateway, GatewayCircuitBreaker breaker, IOptionsMonitor<GatewayOptions> options, ILogger<ChargeSender> logger)
{
    /// <summary>The gateway's name, stored on every attempt.</summary>
    public string GatewayName => gateway.Name;

    public async Task<GatewayChargeResult> SendAsync(Invoice invoice, PaymentAttempt attempt, PaymentMethod method, ChargePermission permission,
        CancellationToken ct)
    {
        var request = new GatewayChargeRequest(attempt.Gateway, attempt.IdempotencyKey, attempt.Amount, method.Token, invoice.CustomerId, invoice.Id,
            invoice.Number, $"Invoice {invoice.Number}");
        var outcome = await gateway.ChargeAsync(request, ct);
        await breaker.RecordAsync(permission, outcome, CancellationToken.None);
        if (outcome.Outcome == GatewayOutcome.Unknown)
            logger.LogError("{ErrorCode}: the gateway did not answer within {TimeoutMs} ms charging invoice {InvoiceNumber} ({InvoiceId}), attempt {AttemptNumber}, key {IdempotencyKey}",
                DeclineCodes.GatewayTimeout, options.CurrentValue.ChargeTimeoutMs, invoice.Number, invoice.Id, attempt.AttemptNumber, attempt.IdempotencyKey);
        return outcome;
    }
}
