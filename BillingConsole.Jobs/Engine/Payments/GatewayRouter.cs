using BillingConsole.Configuration;
using BillingConsole.Engine.Billing;
using BillingConsole.Gateways;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// The <see cref="IPaymentGateway"/> the engine charges through: the adapter of the gateway mode in force, as the Billing
/// settings page stored it (over <c>Gateway:Mode</c>), so a switch between sandbox and Stripe takes effect without a restart.
/// </summary>
/// <remarks>
/// A call about an attempt already recorded goes to the gateway that attempt names (every request carries it), not to the
/// current mode: an attempt saved under the sandbox and looked up after a switch to Stripe would be "never seen" there and
/// sent again, charging twice. The processor saves each attempt with <see cref="Name"/> before it calls, so a charge follows
/// its attempt's record too even when the mode changes in between. Routing costs no database call.
/// </remarks>
public sealed class GatewayRouter(
    IServiceProvider services,
    StoredBillingSettings stored,
    IOptionsMonitor<GatewayOptions> options) : IPaymentGateway
{
    /// <summary>The name of the gateway new attempts are made with.</summary>
    public string Name => GatewayModes.GatewayNameOf(stored.GatewayMode(options.CurrentValue));

    public Task<GatewayChargeResult> ChargeAsync(GatewayChargeRequest request, CancellationToken ct) => Adapter(request.Gateway).ChargeAsync(request, ct);

    public Task<GatewayChargeResult?> LookupAsync(GatewayLookupRequest request, CancellationToken ct) => Adapter(request.Gateway).LookupAsync(request, ct);

    public Task<GatewayRefundResult> RefundAsync(GatewayRefundRequest request, CancellationToken ct) => Adapter(request.Gateway).RefundAsync(request, ct);

    private IPaymentGateway Adapter(string gatewayName) => gatewayName switch
    {
        SandboxGateway.GatewayName => services.GetRequiredService<SandboxGateway>(),
        StripeGateway.GatewayName when StripeConfigured(options.CurrentValue) => services.GetRequiredService<StripeGateway>(),
        StripeGateway.GatewayName => throw new InvalidOperationException(
            "The gateway is Stripe but Gateway:Stripe:ApiKey is not configured: set the environment variable Gateway__Stripe__ApiKey."),
        _ => throw new InvalidOperationException($"'{gatewayName}' is not a known payment gateway."),
    };

    /// <summary>Whether this installation can charge through Stripe: its secret key and API address are configured.</summary>
    public static bool StripeConfigured(GatewayOptions options) =>
        !string.IsNullOrWhiteSpace(options.Stripe.ApiKey) && Uri.TryCreate(options.Stripe.ApiBase, UriKind.Absolute, out _);
}
