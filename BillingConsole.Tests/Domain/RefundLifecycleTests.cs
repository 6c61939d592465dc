using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Domain.Payments.RefundStatus;
using static BillingConsole.Tests.Domain.Build;

namespace BillingConsole.Tests.Domain;

[PureTests]
public sealed class RefundLifecycleTests : TransitionTableTests<Refund, RefundStatus, RefundEvent>
{
    private static readonly RefundStatus? __ = null;

    protected override StateMachine<RefundStatus, RefundEvent> Machine => Refund.Lifecycle;

    protected override IReadOnlyDictionary<(RefundStatus From, RefundEvent On), RefundStatus> Expected { get; } = Matrix(
        //          Succeeded  Failed
        (Pending,   [Succeeded, Failed]),
        (Succeeded, [__,        __]),
        (Failed,    [__,        __]));

    protected override Refund InState(RefundStatus state)
    {
        var refund = New(Usd(10));
        switch (state)
        {
            case Succeeded: refund.Succeed("re_1", T0); break;
            case Failed: refund.Fail("re_1", "The card is closed.", T0); break;
        }
        return refund;
    }

    protected override void Fire(Refund refund, RefundEvent on)
    {
        switch (on)
        {
            case RefundEvent.Succeeded: refund.Succeed("re_2", T0.AddMinutes(1)); break;
            case RefundEvent.Failed: refund.Fail("re_2", "Refused.", T0.AddMinutes(1)); break;
            default: throw new ArgumentOutOfRangeException(nameof(on), on, null);
        }
    }

    protected override RefundStatus StateOf(Refund refund) => refund.Status;

    private static Refund New(Money amount)
    {
        var payment = new PaymentAttempt(Guid.NewGuid(), CustomerId, null, 1, Usd(25), "sandbox", PaymentTrigger.BillingRun, T0);
        payment.Succeed("ch_1", T0, 100);
        return new Refund(payment, amount, CreditReason.Duplicate, null, "Ada Admin", T0);
    }

    [Fact]
    public void A_refund_is_more_than_zero_at_most_the_payment_and_keyed_by_its_own_id()
    {
        Assert.Throws<DomainRuleException>(() => New(Usd(0)));
        Assert.Throws<DomainRuleException>(() => New(Usd(25.01m)));
        var refund = New(Usd(25));
        Assert.Equal($"refund_{refund.Id:N}", refund.IdempotencyKey);
        Assert.Equal(("sandbox", "ch_1"), (refund.Gateway, refund.ChargeReference));
    }
}
