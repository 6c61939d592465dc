using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Domain.Payments.PaymentAttemptStatus;
using static BillingConsole.Tests.Domain.Build;

namespace BillingConsole.Tests.Domain;

[PureTests]
public sealed class PaymentAttemptTests : TransitionTableTests<PaymentAttempt, PaymentAttemptStatus, PaymentAttemptEvent>
{
    private static readonly PaymentAttemptStatus? __ = null;
    private static readonly Guid InvoiceId = Guid.Parse("00000000-0000-0000-0000-00000000a001");

    protected override StateMachine<PaymentAttemptStatus, PaymentAttemptEvent> Machine => PaymentAttempt.Lifecycle;

    protected override IReadOnlyDictionary<(PaymentAttemptStatus From, PaymentAttemptEvent On), PaymentAttemptStatus> Expected { get; } = Matrix(
        //          Succeeded  Failed  TimedOut  SucceededOnSettledInvoice
        (Pending,   [Succeeded, Failed, Unknown, RefundDue]),
        (Succeeded, [__,        __,     __,      __]),
        (Failed,    [Succeeded, __,     __,      RefundDue]),
        (Unknown,   [Succeeded, Failed, __,      RefundDue]),
        (RefundDue, [__,        __,     __,      __]));

    protected override PaymentAttempt InState(PaymentAttemptStatus state)
    {
        var attempt = New(1);
        switch (state)
        {
            case Succeeded: attempt.Succeed("ch_1", T0, 120); break;
            case Failed: attempt.Fail(DeclineCodes.InsufficientFunds, "Insufficient funds", "ch_1", T0, 120); break;
            case Unknown: attempt.TimeOut(T0, 30_000); break;
            case RefundDue: attempt.SucceedOnSettledInvoice("ch_1", T0, 120); break;
        }
        return attempt;
    }

    protected override void Fire(PaymentAttempt attempt, PaymentAttemptEvent on)
    {
        switch (on)
        {
            case PaymentAttemptEvent.Succeeded: attempt.Succeed("ch_2", T0.AddMinutes(1), 90); break;
            case PaymentAttemptEvent.Failed: attempt.Fail(DeclineCodes.DoNotHonor, "Do not honor", null, T0.AddMinutes(1), 90); break;
            case PaymentAttemptEvent.TimedOut: attempt.TimeOut(T0.AddMinutes(1), 30_000); break;
            case PaymentAttemptEvent.SucceededOnSettledInvoice: attempt.SucceedOnSettledInvoice("ch_2", T0.AddMinutes(1), 90); break;
            default: throw new ArgumentOutOfRangeException(nameof(on), on, null);
        }
    }

    protected override PaymentAttemptStatus StateOf(PaymentAttempt attempt) => attempt.Status;

    private static PaymentAttempt New(int attemptNumber) =>
        new(InvoiceId, CustomerId, null, attemptNumber, Usd(25), "sandbox", PaymentTrigger.BillingRun, T0);

    [Fact]
    public void The_idempotency_key_depends_only_on_invoice_and_attempt_number()
    {
        Assert.Equal(New(2).IdempotencyKey, New(2).IdempotencyKey);
        Assert.NotEqual(New(1).IdempotencyKey, New(2).IdempotencyKey);
        Assert.Equal($"inv_{InvoiceId:N}_att_2", New(2).IdempotencyKey);
    }

    [Fact]
    public void A_timeout_is_recorded_as_the_gateway_timeout_code()
    {
        var attempt = InState(Unknown);
        Assert.Equal((DeclineCodes.GatewayTimeout, T0), (attempt.DeclineCode, attempt.CompletedAt));
    }

    [Fact]
    public void A_success_reported_after_a_failure_keeps_the_decline_as_history_and_takes_the_gateway_reference()
    {
        var attempt = InState(Failed);
        attempt.Succeed("pi_late", T0.AddMinutes(5), 40);
        Assert.Equal((Succeeded, "pi_late", T0.AddMinutes(5), DeclineCodes.InsufficientFunds),
            (attempt.Status, attempt.GatewayReference, attempt.CompletedAt, attempt.DeclineCode));
    }

    [Theory]
    [InlineData(0, 25)]
    [InlineData(1, 0)]
    [InlineData(1, -5)]
    public void Attempt_number_and_amount_are_checked(int attemptNumber, decimal amount) =>
        Assert.Throws<DomainRuleException>(() =>
            new PaymentAttempt(InvoiceId, CustomerId, null, attemptNumber, Usd(amount), "sandbox", PaymentTrigger.Manual, T0));
}
