using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BillingConsole.Gateways;

/// <summary>
/// An in-process stand-in for a card processor. The outcome is chosen by the payment method token's prefix
/// (pm_ok_, pm_insufficient_funds_, …, pm_timeout_…, pm_slow_), so demo data and tests get the same answer every time.
/// Charges are remembered by idempotency key, so a repeated key returns the first answer and never charges twice.
/// </summary>
public sealed class SandboxGateway(IOptionsMonitor<GatewayOptions> options, TimeProvider clock, ILogger<SandboxGateway> logger) : IPaymentGateway
{
    public const string GatewayName = "sandbox";
    public const string TimeoutPrefix = "pm_timeout_";
    public const string SlowPrefix = "pm_slow_";
    /// <summary>Declines an invoice's first charge for insufficient funds and pays the later ones: a card that recovers.</summary>
    public const string InsufficientFundsThenOkPrefix = "pm_insufficient_funds_then_ok_";

    private static readonly (string Prefix, string DeclineCode, string Message)[] Declines =
    [
        ("pm_insufficient_funds_", DeclineCodes.InsufficientFunds, "Your card has insufficient funds."),
        ("pm_do_not_honor_", DeclineCodes.DoNotHonor, "Your card was declined."),
        ("pm_try_again_later_", DeclineCodes.TryAgainLater, "The card issuer asked to try again later."),
        ("pm_expired_card_", DeclineCodes.ExpiredCard, "Your card has expired."),
        ("pm_lost_card_", DeclineCodes.LostCard, "The card was reported lost."),
        ("pm_stolen_card_", DeclineCodes.StolenCard, "The card was reported stolen."),
        ("pm_fraudulent_", DeclineCodes.Fraudulent, "The charge was flagged as fraudulent."),
        ("pm_account_closed_", DeclineCodes.AccountClosed, "The card's account is closed."),
        ("pm_authentication_required_", DeclineCodes.AuthenticationRequired, "The bank asked the customer to authenticate the payment."),
    ];

    private const int Success = -1;

    /// <summary>What a person is told when they attach a sandbox card by its token.</summary>
    public const string CardTokenHint =
        "A sandbox card token starts with the outcome it gets: pm_ok_ is paid; pm_insufficient_funds_, pm_do_not_honor_, pm_expired_card_ and the other decline codes decline; pm_insufficient_funds_then_ok_ declines each invoice's first charge and pays its retry; pm_bank_7_ declines about 7 % of invoices the way real issuers do.";

    /// <summary>
    /// A new card token's unique tail: 24 letters and digits, every fourth a letter, so that no token holds a run of digits
    /// long enough to pass for a card number (a Guid's hex can hold fifteen).
    /// </summary>
    public static string NewTokenTail()
    {
        const string letters = "abcdefghijklmnopqrstuvwxyz";
        const string alphanumerics = "0123456789abcdefghijklmnopqrstuvwxyz";
        return string.Create(24, 0, (tail, _) =>
        {
            for (var i = 0; i < tail.Length; i++)
            {
                var choices = i % 4 == 3 ? letters : alphanumerics;
                tail[i] = choices[System.Security.Cryptography.RandomNumberGenerator.GetInt32(choices.Length)];
            }
        });
    }

    /// <summary>
    /// True for a token a person may type to attach a sandbox card: lower-case letters, digits and underscores, starting with
    /// pm_ok_ or a decline's prefix, so it gets the outcome its name promises.
    /// </summary>
    public static bool IsCardTokenPrefix(string token)
    {
        if (token.Length is 0 or > 60 || !token.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')) return false;
        var named = token.TrimEnd('_') + "_";
        return named.StartsWith("pm_ok_", StringComparison.Ordinal) || named.StartsWith(SandboxBank.Prefix, StringComparison.Ordinal) || Declines.Any(d => named.StartsWith(d.Prefix, StringComparison.Ordinal));
    }

    // A billing run sends a million keys through one instance: per key only the outcome and the amount are kept, and the
    // charge's reference is derived from the key.
    private readonly ConcurrentDictionary<string, SandboxCharge> _charges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, GatewayRefundResult> _refunds = new(StringComparer.Ordinal);
    // The invoices a pm_insufficient_funds_then_ok_ card has declined once.
    private readonly ConcurrentDictionary<Guid, bool> _declinedOnce = new();
    // The invoices a pm_bank_ card has declined: the code and how many later charges failed since.
    private readonly ConcurrentDictionary<Guid, BankDecline> _bankDeclines = new();

    private sealed record BankDecline(string Code, int FailedRetries);

    public string Name => GatewayName;

    /// <summary>Charges that moved money, for tests that count them.</summary>
    public int SuccessfulChargeCount => _charges.Values.Count(c => c.Outcome == Success);

    private int _chargeCalls;

    /// <summary>Charge calls received, answered or not, for tests that check what was sent.</summary>
    public int ChargeCallCount => Volatile.Read(ref _chargeCalls);

    /// <summary>Makes the whole gateway fail (tests and demonstrations): every call fails this way and nothing is charged.</summary>
    public SandboxOutage Outage { get; set; }

    private int _failingCalls;
    private SandboxOutage _failingAs;

    /// <summary>Makes only the next <paramref name="calls"/> calls fail as <paramref name="outage"/> (a short blip).</summary>
    public void FailNextCalls(int calls, SandboxOutage outage)
    {
        _failingAs = outage;
        Volatile.Write(ref _failingCalls, calls);
    }

    public async Task<GatewayChargeResult> ChargeAsync(GatewayChargeRequest request, CancellationToken ct)
    {
        Interlocked.Increment(ref _chargeCalls);
        var sandbox = options.CurrentValue.Sandbox;
        var started = Stopwatch.GetTimestamp();
        if (await FailAsOutageAsync(ct)) return GatewayChargeResult.Unknown(Stopwatch.GetElapsedTime(started));
        var token = request.PaymentMethodToken;
        await DelayAsync(sandbox.LatencyMs + (token.StartsWith(SlowPrefix, StringComparison.Ordinal) ? sandbox.SlowLatencyMs : 0), ct);

        // The gateway decides and remembers before it answers: a timed-out charge has still happened (or not).
        var outcome = token.StartsWith(InsufficientFundsThenOkPrefix, StringComparison.Ordinal)
            ? (_declinedOnce.TryAdd(request.InvoiceId, true) ? Decide(token) : Success)
            : token.StartsWith(SandboxBank.Prefix, StringComparison.Ordinal) ? DecideAsBank(request) : Decide(token);
        var fresh = new SandboxCharge(outcome, request.Amount);
        var charge = _charges.GetOrAdd(request.IdempotencyKey, fresh);
        var first = ReferenceEquals(charge, fresh);
        if (first && charge.Outcome == Success && logger.IsEnabled(LogLevel.Information))
            logger.LogInformation("Mock Success: charged {Amount} to {Token} for invoice {InvoiceNumber} (key {IdempotencyKey}, reference {Reference})",
                request.Amount, token, request.InvoiceNumber, request.IdempotencyKey, ReferenceOf(request.IdempotencyKey));

        if (first && token.StartsWith(TimeoutPrefix, StringComparison.Ordinal))
        {
            // Never answers in time: the caller's deadline ends the wait, or the gateway's own timeout does.
            await DelayAsync(sandbox.TimeoutMs, ct);
            return GatewayChargeResult.Unknown(Stopwatch.GetElapsedTime(started));
        }
        return Answer(request.IdempotencyKey, charge, Stopwatch.GetElapsedTime(started));
    }

    public async Task<GatewayChargeResult?> LookupAsync(GatewayLookupRequest request, CancellationToken ct)
    {
        var idempotencyKey = request.IdempotencyKey;
        var started = Stopwatch.GetTimestamp();
        if (await FailAsOutageAsync(ct)) return GatewayChargeResult.Unknown(Stopwatch.GetElapsedTime(started));
        await DelayAsync(options.CurrentValue.Sandbox.LatencyMs, ct);
        return _charges.TryGetValue(idempotencyKey, out var charge) ? Answer(idempotencyKey, charge, Stopwatch.GetElapsedTime(started)) : null;
    }

    public async Task<GatewayRefundResult> RefundAsync(GatewayRefundRequest request, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        if (await FailAsOutageAsync(ct)) throw new TimeoutException("The sandbox gateway did not answer the refund in time.");
        await DelayAsync(options.CurrentValue.Sandbox.LatencyMs, ct);
        return _refunds.GetOrAdd(request.IdempotencyKey, _ => Refund(request, Stopwatch.GetElapsedTime(started)));
    }

    private GatewayRefundResult Refund(GatewayRefundRequest request, TimeSpan latency)
    {
        var key = request.ChargeReference.StartsWith(ReferencePrefix, StringComparison.Ordinal) ? request.ChargeReference[ReferencePrefix.Length..] : null;
        if (key is null || !_charges.TryGetValue(key, out var charge) || charge.Outcome != Success)
            return new GatewayRefundResult(GatewayRefundStatus.Failed, null, "No successful charge has that reference.", latency);
        lock (charge)
        {
            if (request.Amount.Currency != charge.Amount.Currency || !request.Amount.IsPositive || charge.Refunded + request.Amount.Amount > charge.Amount.Amount)
                return new GatewayRefundResult(GatewayRefundStatus.Failed, null, "The refund is more than what is left of the charge.", latency);
            charge.Refunded += request.Amount.Amount;
        }
        return new GatewayRefundResult(GatewayRefundStatus.Succeeded, $"re_sandbox_{Guid.CreateVersion7():N}", null, latency);
    }

    private const string ReferencePrefix = "ch_sandbox_";

    /// <summary>
    /// The customer authenticated a charge their bank held (3-D Secure), as Stripe's client script confirms a payment that
    /// requires action: the charge now succeeds, and the answer is what the gateway would report by webhook. Null when no
    /// charge with that reference waits for authentication.
    /// </summary>
    public GatewayChargeResult? ConfirmAuthentication(string reference)
    {
        var key = reference.StartsWith(ReferencePrefix, StringComparison.Ordinal) ? reference[ReferencePrefix.Length..] : null;
        if (key is null || !_charges.TryGetValue(key, out var charge) || charge.Outcome < 0 || charge.Outcome >= Declines.Length
            || Declines[charge.Outcome].DeclineCode != DeclineCodes.AuthenticationRequired)
            return null;
        return _charges.TryUpdate(key, new SandboxCharge(Success, charge.Amount), charge) ? GatewayChargeResult.Succeeded(reference, TimeSpan.Zero) : null;
    }

    private static string ReferenceOf(string idempotencyKey) => ReferencePrefix + idempotencyKey;

    private static GatewayChargeResult Answer(string idempotencyKey, SandboxCharge charge, TimeSpan latency)
    {
        if (charge.Outcome == Success) return GatewayChargeResult.Succeeded(ReferenceOf(idempotencyKey), latency);
        var (code, message) = charge.Outcome < Declines.Length
            ? (Declines[charge.Outcome].DeclineCode, Declines[charge.Outcome].Message)
            : (DeclineCodes.GenericDecline, "Your card was declined.");
        return GatewayChargeResult.Declined(code, message, ReferenceOf(idempotencyKey), latency);
    }

    /// <summary>
    /// The answer a token gets: <see cref="Success"/>, an index into the declines, or past them a generic decline.
    /// pm_timeout_ok_ succeeded behind the timeout; the rest of any other pm_timeout_… token decides in the same way.
    /// </summary>
    private static int Decide(string token)
    {
        if (token.StartsWith(TimeoutPrefix, StringComparison.Ordinal))
            token = "pm_" + token[TimeoutPrefix.Length..];
        if (token.StartsWith("pm_ok_", StringComparison.Ordinal) || token.StartsWith(SlowPrefix, StringComparison.Ordinal))
            return Success;
        for (var i = 0; i < Declines.Length; i++)
        {
            if (token.StartsWith(Declines[i].Prefix, StringComparison.Ordinal)) return i;
        }
        return Declines.Length;
    }

    /// <summary>A pm_bank_ card's answer (see <see cref="SandboxBank"/>); charges of one invoice come one at a time (the invoice lock).</summary>
    private int DecideAsBank(GatewayChargeRequest request)
    {
        var token = request.PaymentMethodToken;
        var invoiceNumber = request.InvoiceNumber ?? request.InvoiceId.ToString();
        if (!_bankDeclines.TryGetValue(request.InvoiceId, out var declined))
        {
            if (SandboxBank.FirstCharge(token, invoiceNumber) is not { } code) return Success;
            _bankDeclines[request.InvoiceId] = new BankDecline(code, 0);
            return DeclineIndex(code);
        }
        if (SandboxBank.LaterChargePays(token, invoiceNumber, declined.Code, declined.FailedRetries, clock.GetUtcNow()))
        {
            _bankDeclines.TryRemove(request.InvoiceId, out _);
            return Success;
        }
        _bankDeclines[request.InvoiceId] = declined with { FailedRetries = declined.FailedRetries + 1 };
        return DeclineIndex(declined.Code);
    }

    private static int DeclineIndex(string declineCode) => Array.FindIndex(Declines, d => d.DeclineCode == declineCode);

    private bool TakeFailingCall()
    {
        int left;
        do
        {
            left = Volatile.Read(ref _failingCalls);
            if (left <= 0) return false;
        } while (Interlocked.CompareExchange(ref _failingCalls, left - 1, left) != left);
        return true;
    }

    /// <summary>True after a timeout; throws as a 5xx answer or a reset connection does; false when there is no outage.</summary>
    private async Task<bool> FailAsOutageAsync(CancellationToken ct)
    {
        switch (TakeFailingCall() ? _failingAs : Outage)
        {
            case SandboxOutage.Timeouts:
                await DelayAsync(options.CurrentValue.Sandbox.TimeoutMs, ct);
                return true;
            case SandboxOutage.ServerErrors:
                throw new HttpRequestException("The sandbox gateway answered 503 Service Unavailable.", null, HttpStatusCode.ServiceUnavailable);
            case SandboxOutage.ConnectionResets:
                throw new HttpRequestException("The connection to the sandbox gateway was reset.", new SocketException((int)SocketError.ConnectionReset));
            default:
                return false;
        }
    }

    // Network latency is wall-clock time, not billing time: a test's fake clock must not stall it.
    private static Task DelayAsync(int milliseconds, CancellationToken ct) =>
        milliseconds <= 0 ? Task.CompletedTask : Task.Delay(milliseconds, ct);

    private sealed class SandboxCharge(int outcome, Money amount)
    {
        public int Outcome { get; } = outcome;
        public Money Amount { get; } = amount;
        public decimal Refunded { get; set; }
    }
}

/// <summary>How the whole sandbox gateway fails when told to: not at all, by timing out, with 5xx answers, or by resetting connections.</summary>
public enum SandboxOutage { None, Timeouts, ServerErrors, ConnectionResets }
