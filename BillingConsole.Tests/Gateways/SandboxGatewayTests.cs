using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using BillingConsole.Gateways;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace BillingConsole.Tests.Gateways;

[PureTests]
public sealed class SandboxGatewayTests
{
    private readonly ListLogger<SandboxGateway> _log = new();
    private readonly SandboxGateway _gateway;

    public SandboxGatewayTests() =>
        _gateway = new SandboxGateway(new StaticOptions(new GatewayOptions { Sandbox = { SlowLatencyMs = 50, TimeoutMs = 10_000 } }), TimeProvider.System, _log);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static GatewayChargeRequest Request(string token, string? key = null, decimal amount = 25m) =>
        new(SandboxGateway.GatewayName, key ?? $"key_{Guid.NewGuid():N}", new Money(amount, "USD"), token + Guid.NewGuid().ToString("N"), Guid.NewGuid(), Guid.NewGuid(), "INV-001000", "Invoice INV-001000");

    [Theory]
    [InlineData("pm_ok_", null)]
    [InlineData("pm_slow_", null)]
    [InlineData("pm_insufficient_funds_", DeclineCodes.InsufficientFunds)]
    [InlineData("pm_do_not_honor_", DeclineCodes.DoNotHonor)]
    [InlineData("pm_try_again_later_", DeclineCodes.TryAgainLater)]
    [InlineData("pm_expired_card_", DeclineCodes.ExpiredCard)]
    [InlineData("pm_lost_card_", DeclineCodes.LostCard)]
    [InlineData("pm_stolen_card_", DeclineCodes.StolenCard)]
    [InlineData("pm_fraudulent_", DeclineCodes.Fraudulent)]
    [InlineData("pm_account_closed_", DeclineCodes.AccountClosed)]
    [InlineData("pm_something_else_", DeclineCodes.GenericDecline)]
    public async Task The_token_prefix_chooses_the_outcome(string prefix, string? declineCode)
    {
        var result = await _gateway.ChargeAsync(Request(prefix), Ct);

        Assert.Equal(declineCode is null ? GatewayOutcome.Succeeded : GatewayOutcome.Declined, result.Outcome);
        Assert.Equal(declineCode, result.DeclineCode);
        Assert.StartsWith("ch_sandbox_", result.GatewayReference);
    }

    [Fact]
    public async Task A_card_that_recovers_declines_each_invoices_first_charge_and_pays_the_next_under_a_new_key()
    {
        var first = Request(SandboxGateway.InsufficientFundsThenOkPrefix);
        var retry = first with { IdempotencyKey = $"key_{Guid.NewGuid():N}" };
        var otherInvoice = first with { IdempotencyKey = $"key_{Guid.NewGuid():N}", InvoiceId = Guid.NewGuid() };

        var declined = await _gateway.ChargeAsync(first, Ct);
        var replayed = await _gateway.ChargeAsync(first with { }, Ct);
        var paid = await _gateway.ChargeAsync(retry, Ct);
        var nextInvoice = await _gateway.ChargeAsync(otherInvoice, Ct);

        Assert.Equal((GatewayOutcome.Declined, DeclineCodes.InsufficientFunds), (declined.Outcome, declined.DeclineCode));
        Assert.Equal(GatewayOutcome.Declined, replayed.Outcome);
        Assert.Equal(GatewayOutcome.Succeeded, paid.Outcome);
        Assert.Equal((GatewayOutcome.Declined, DeclineCodes.InsufficientFunds), (nextInvoice.Outcome, nextInvoice.DeclineCode));
        Assert.True(SandboxGateway.IsCardTokenPrefix(SandboxGateway.InsufficientFundsThenOkPrefix));
    }

    [Fact]
    public async Task A_bank_card_declines_about_its_risk_in_realistic_codes_the_same_way_every_time_and_never_recovers_a_hard_decline()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        var options = new StaticOptions(new GatewayOptions());
        var first = new SandboxGateway(options, clock, _log);
        var again = new SandboxGateway(options, clock, _log);
        const string token = "pm_bank_20_abc1def2ghi3jkl4";
        GatewayChargeRequest Charge(int invoice, int attempt) =>
            new(SandboxGateway.GatewayName, $"inv_{invoice}_att_{attempt}", new Money(25m, "USD"), token, Guid.Empty,
                new Guid(invoice, 0, 0, new byte[8]), $"INV-{invoice:D6}", "Invoice");

        var declined = new Dictionary<int, string>();
        for (var invoice = 1; invoice <= 1000; invoice++)
        {
            var result = await first.ChargeAsync(Charge(invoice, 1), Ct);
            Assert.Equal(result.Outcome, (await again.ChargeAsync(Charge(invoice, 1), Ct)).Outcome);
            if (result.Outcome == GatewayOutcome.Declined) declined[invoice] = result.DeclineCode!;
        }
        Assert.InRange(declined.Count, 150, 250);
        Assert.InRange(declined.Values.Count(code => code == DeclineCodes.InsufficientFunds) / (double)declined.Count, 0.3, 0.6);

        // Retries of the declined invoices, hours apart: soft declines are paid now and then, hard ones never.
        var paidOnRetry = new List<string>();
        foreach (var (invoice, code) in declined)
        {
            for (var attempt = 2; attempt <= 6; attempt++)
            {
                clock.Advance(TimeSpan.FromHours(7));
                if ((await first.ChargeAsync(Charge(invoice, attempt), Ct)).Outcome != GatewayOutcome.Succeeded) continue;
                paidOnRetry.Add(code);
                break;
            }
        }
        Assert.NotEmpty(paidOnRetry);
        Assert.DoesNotContain(paidOnRetry, code => DeclineCodes.DefaultHard.Contains(code));
    }

    [Fact]
    public void New_card_tokens_never_hold_a_run_of_digits_that_could_pass_for_a_card_number()
    {
        for (var i = 0; i < 2000; i++)
            Assert.DoesNotMatch("[0-9]{4,}", SandboxGateway.NewTokenTail());
    }

    [Fact]
    public async Task A_success_logs_Mock_Success_and_a_decline_does_not()
    {
        await _gateway.ChargeAsync(Request("pm_ok_"), Ct);
        await _gateway.ChargeAsync(Request("pm_do_not_honor_"), Ct);

        Assert.Single(_log.Entries, e => e.Message.Contains("Mock Success"));
    }

    [Fact]
    public async Task A_repeated_key_returns_the_first_result_and_charges_once()
    {
        var first = Request("pm_ok_");
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => _gateway.ChargeAsync(first with { }, Ct)));
        var again = await _gateway.ChargeAsync(first with { Amount = new Money(99m, "USD") }, Ct);

        Assert.Single(results.Select(r => r.GatewayReference).Append(again.GatewayReference).Distinct());
        Assert.Equal(1, _gateway.SuccessfulChargeCount);
        Assert.Single(_log.Entries, e => e.Message.Contains("Mock Success"));
    }

    [Fact]
    public async Task Lookup_finds_a_charge_by_key_and_returns_null_for_a_key_never_seen()
    {
        var request = Request("pm_insufficient_funds_");
        var charged = await _gateway.ChargeAsync(request, Ct);

        var found = await _gateway.LookupAsync(new GatewayLookupRequest(SandboxGateway.GatewayName, request.IdempotencyKey), Ct);

        Assert.Equal(charged with { Latency = TimeSpan.Zero }, found! with { Latency = TimeSpan.Zero });
        Assert.Null(await _gateway.LookupAsync(new GatewayLookupRequest(SandboxGateway.GatewayName, "key_never_sent"), Ct));
    }

    [Theory]
    [InlineData("pm_timeout_ok_", GatewayOutcome.Succeeded, null)]
    [InlineData("pm_timeout_", GatewayOutcome.Declined, DeclineCodes.GenericDecline)]
    [InlineData("pm_timeout_insufficient_funds_", GatewayOutcome.Declined, DeclineCodes.InsufficientFunds)]
    public async Task A_timeout_token_never_answers_in_time_but_the_charge_did_or_did_not_happen(string prefix, GatewayOutcome happened, string? declineCode)
    {
        var request = Request(prefix);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(200);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _gateway.ChargeAsync(request, deadline.Token));

        var found = await _gateway.LookupAsync(new GatewayLookupRequest(SandboxGateway.GatewayName, request.IdempotencyKey), Ct);
        Assert.Equal(happened, found!.Outcome);
        Assert.Equal(declineCode, found.DeclineCode);
        Assert.Equal(found.GatewayReference, (await _gateway.ChargeAsync(request, Ct)).GatewayReference);
    }

    [Fact]
    public async Task A_refund_needs_a_successful_charge_and_never_exceeds_it()
    {
        var charge = await _gateway.ChargeAsync(Request("pm_ok_", amount: 30m), Ct);
        var usd = (decimal amount) => new Money(amount, "USD");

        var first = await _gateway.RefundAsync(new GatewayRefundRequest(SandboxGateway.GatewayName, "re_1", charge.GatewayReference!, usd(20m), "requested"), Ct);
        var replay = await _gateway.RefundAsync(new GatewayRefundRequest(SandboxGateway.GatewayName, "re_1", charge.GatewayReference!, usd(20m), "requested"), Ct);
        var tooMuch = await _gateway.RefundAsync(new GatewayRefundRequest(SandboxGateway.GatewayName, "re_2", charge.GatewayReference!, usd(20m), "requested"), Ct);
        var unknown = await _gateway.RefundAsync(new GatewayRefundRequest(SandboxGateway.GatewayName, "re_3", "ch_nothing", usd(1m), "requested"), Ct);

        Assert.True(first.Succeeded);
        Assert.Equal(first.GatewayReference, replay.GatewayReference);
        Assert.False(tooMuch.Succeeded);
        Assert.False(unknown.Succeeded);
    }

    private sealed class StaticOptions(GatewayOptions value) : IOptionsMonitor<GatewayOptions>
    {
        public GatewayOptions CurrentValue => value;
        public GatewayOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<GatewayOptions, string?> listener) => null;
    }
}
