using BillingConsole.Domain.Common;

namespace BillingConsole.Gateways;

/// <summary>
/// A card processor as the engine sees it. Every call carries an idempotency key: asking again with the same key
/// returns the first answer and never moves money twice, which is what makes a retry after a timeout safe.
/// </summary>
public interface IPaymentGateway
{
    /// <summary>The name stored on payment attempts and payment methods ("sandbox", "stripe").</summary>
    string Name { get; }

    /// <summary>Charges a stored payment method. A deadline reached through <paramref name="ct"/> throws; the caller records it as unknown.</summary>
    Task<GatewayChargeResult> ChargeAsync(GatewayChargeRequest request, CancellationToken ct);

    /// <summary>What the gateway did with a charge key, or null when it never saw that key (so sending it again is safe).</summary>
    Task<GatewayChargeResult?> LookupAsync(GatewayLookupRequest request, CancellationToken ct);

    Task<GatewayRefundResult> RefundAsync(GatewayRefundRequest request, CancellationToken ct);
}

/// <summary>The charge of a saved attempt.</summary>
/// <param name="Gateway">The gateway the attempt was saved with (<see cref="IPaymentGateway.Name"/>): every call about an attempt goes there.</param>
public sealed record GatewayChargeRequest(
    string Gateway,
    string IdempotencyKey,
    Money Amount,
    string PaymentMethodToken,
    Guid CustomerId,
    Guid InvoiceId,
    string? InvoiceNumber,
    string Description);

public enum GatewayOutcome { Succeeded, Declined, Unknown }

/// <param name="GatewayReference">The gateway's id of the charge; null when it gave none (unknown outcome).</param>
public sealed record GatewayChargeResult(
    GatewayOutcome Outcome,
    string? GatewayReference,
    string? DeclineCode,
    string? Message,
    TimeSpan Latency)
{
    public static GatewayChargeResult Succeeded(string reference, TimeSpan latency) => new(GatewayOutcome.Succeeded, reference, null, null, latency);

    public static GatewayChargeResult Declined(string declineCode, string message, string? reference, TimeSpan latency) =>
        new(GatewayOutcome.Declined, reference, declineCode, message, latency);

    public static GatewayChargeResult Unknown(TimeSpan latency) =>
        new(GatewayOutcome.Unknown, null, Domain.Payments.DeclineCodes.GatewayTimeout, "The gateway did not answer in time.", latency);
}

/// <summary>A question about an attempt's charge key.</summary>
/// <param name="Gateway">The gateway the attempt was saved with.</param>
public sealed record GatewayLookupRequest(string Gateway, string IdempotencyKey);

/// <param name="Gateway">The gateway that made the charge.</param>
/// <param name="ChargeReference">The gateway reference of the successful charge being refunded.</param>
public sealed record GatewayRefundRequest(string Gateway, string IdempotencyKey, string ChargeReference, Money Amount, string Reason);

/// <summary>Pending: the gateway accepted the refund but has not completed it; it reports the outcome later (Stripe: refund.updated).</summary>
public enum GatewayRefundStatus { Succeeded, Pending, Failed }

public sealed record GatewayRefundResult(GatewayRefundStatus Status, string? GatewayReference, string? FailureMessage, TimeSpan Latency)
{
    public bool Succeeded => Status == GatewayRefundStatus.Succeeded;
}
