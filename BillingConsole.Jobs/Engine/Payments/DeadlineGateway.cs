using System.Diagnostics;
using BillingConsole.Configuration;
using BillingConsole.Engine.Telemetry;
using BillingConsole.Gateways;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Payments;

/// <summary>
/// The configured gateway adapter as the payment processor calls it: a charge or a look-up within the charge deadline, where a
/// deadline reached or a failed call becomes an unknown outcome instead of an exception. A call that failed fast (a 5xx, a
/// reset connection) is made again, up to <see cref="GatewayOptions.RetryAttempts"/> times, while the deadline leaves time.
/// That is safe only because both calls are idempotent: a charge goes under its attempt's own key, which the gateway answers
/// with the first result, and a look-up only reads. Refunds pass through unchanged (they are not repeated here).
/// </summary>
public sealed class DeadlineGateway(IPaymentGateway adapter, IOptionsMonitor<GatewayOptions> options, EngineTelemetry telemetry,
    ILogger<DeadlineGateway> logger) : IPaymentGateway
{
    public string Name => adapter.Name;

    public async Task<GatewayChargeResult> ChargeAsync(GatewayChargeRequest request, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await CallAsync(token => adapter.ChargeAsync(request, token), GatewayChargeResult.Unknown, ct);
        telemetry.ChargeAnswered(request.Gateway, result, Stopwatch.GetElapsedTime(started));
        return result;
    }

    public Task<GatewayChargeResult?> LookupAsync(GatewayLookupRequest request, CancellationToken ct) =>
        CallAsync<GatewayChargeResult?>(token => adapter.LookupAsync(request, token), latency => GatewayChargeResult.Unknown(latency), ct);

    public Task<GatewayRefundResult> RefundAsync(GatewayRefundRequest request, CancellationToken ct) => adapter.RefundAsync(request, ct);

    private async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, Func<TimeSpan, T> unknown, CancellationToken ct)
    {
        var settings = options.CurrentValue;
        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(settings.ChargeTimeoutMs);
        for (var retry = 0; ; retry++)
        {
            T result;
            try
            {
                result = await call(deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // The deadline is used up: no time is left to ask again.
                return unknown(Stopwatch.GetElapsedTime(started));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "The gateway call failed (try {Try} of {Tries}); its outcome is treated as unknown", retry + 1, settings.RetryAttempts + 1);
                result = unknown(Stopwatch.GetElapsedTime(started));
            }
            if (result is not GatewayChargeResult { Outcome: GatewayOutcome.Unknown } || retry == settings.RetryAttempts) return result;
            try
            {
                // Network time, like the deadline: wall-clock, not the billing clock.
                await Task.Delay(settings.RetryDelayMs << retry, deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return result;
            }
        }
    }
}
