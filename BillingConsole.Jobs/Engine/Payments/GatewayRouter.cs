using BillingConsole.Configuration;
using BillingConsole.Engine.Billing;
using BillingConsole.Gateways;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// The <see cref="IPaymentGateway"/> the engine charges through: the adapter of the gateway mode in force, as the Billing
/// settings page stored it (over <c>Gateway:Mode</c>), so a switch between sandbox and Stripe takes effect without a restart.
/// </summary>
/// <remarks>
/// A call about an attempt already recorded goes to the gateway that attempt names, not to the current mode: an attempt saved
/// under the sandbox and looked up after a switch to Stripe would be "never seen" there and sent again, charging twice. The
/// processor saves each attempt with <see cref="Name"/> before it calls, so a charge follows its attempt's record too even
/// when the mode changes in between.
/// </remarks>
public sealed class GatewayRouter(
    IServiceProvider services,
    StoredBillingSettings stored,
    IOptionsMonitor<GatewayOptions> options,
    NpgsqlDataSource dataSource) : IPaymentGateway
{
    /// <summary>The name of the gateway new attempts are made with.</summary>
    public string Name => GatewayModes.GatewayNameOf(stored.GatewayMode(options.CurrentValue));

    public async Task<GatewayChargeResult> ChargeAsync(GatewayChargeRequest request, CancellationToken ct) =>
        await (await OfAttemptAsync(ByKey, request.IdempotencyKey, ct)).ChargeAsync(request, ct);

    public async Task<GatewayChargeResult?> LookupAsync(string idempotencyKey, CancellationToken ct) =>
        await (await OfAttemptAsync(ByKey, idempotencyKey, ct)).LookupAsync(idempotencyKey, ct);

    public async Task<GatewayRefundResult> RefundAsync(GatewayRefundRequest request, CancellationToken ct) =>
        await (await OfAttemptAsync(ByReference, request.ChargeReference, ct)).RefundAsync(request, ct);

    private const string ByKey = "select gateway from payment_attempts where idempotency_key = @value";
    private const string ByReference = "select gateway from payment_attempts where gateway_reference = @value limit 1";

    /// <summary>The adapter of the attempt that <paramref name="sql"/> finds by <paramref name="value"/>; the current one when none is recorded.</summary>
    private async Task<IPaymentGateway> OfAttemptAsync(string sql, string value, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var recorded = await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition(sql, new { value }, cancellationToken: ct));
        return Adapter(recorded ?? Name);
    }

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
