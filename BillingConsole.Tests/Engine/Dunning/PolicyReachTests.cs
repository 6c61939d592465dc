using BillingConsole.Components.Pages.Settings;
using BillingConsole.Components.Shared;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Dunning;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Engine.Dunning;

/// <summary>
/// The pure rules around a policy change and the actions that move money: which version an open case follows, what the
/// confirmation says, when a case is stuck, and what Retry now warns of.
/// </summary>
[PureTests]
public sealed class PolicyReachTests
{
    private static readonly DateTimeOffset Now = new(2027, 3, 15, 12, 0, 0, TimeSpan.Zero);

    private static DunningPolicyVersion Version(int version, bool forOpenCases, int budget) =>
        new(version, DunningPolicySettings.Default with { AttemptBudget = budget }, "admin", "test", Now, forOpenCases);

    [Fact]
    public void An_open_case_follows_the_newest_version_saved_for_open_cases_or_keeps_a_newer_one_it_was_opened_under()
    {
        var policies = new PoliciesInForce([Version(1, true, 8), Version(2, true, 6), Version(3, false, 4), Version(4, false, 2)]);

        Assert.Equal((4, 2), (policies.Newest, policies.AppliedToOpenCases));
        Assert.Equal((2, 6), (policies.For(1).Version, policies.For(1).Settings.AttemptBudget));
        Assert.Equal((2, 6), (policies.For(2).Version, policies.For(2).Settings.AttemptBudget));
        Assert.Equal((3, 4), (policies.For(3).Version, policies.For(3).Settings.AttemptBudget));
        Assert.Equal((4, 2), (policies.For(4).Version, policies.For(4).Settings.AttemptBudget));
        Assert.Equal([2, 4, 6], policies.All.Select(p => p.AttemptBudget).Order());
    }

    [Fact]
    public void The_tally_counts_each_waiting_case_once_and_writes_off_per_currency_only_for_mark_uncollectible()
    {
        var scheduled = Now.AddDays(1);
        var tally = new PolicyImpactTally(FinalAction.MarkUncollectible);
        tally.Add(scheduled, DunningStatus.RetryPending, scheduled, new Money(10m, "USD"));
        tally.Add(scheduled, DunningStatus.RetryPending, scheduled.AddDays(2), new Money(10m, "USD"));
        tally.Add(scheduled, DunningStatus.AwaitingPaymentMethod, null, new Money(10m, "USD"));
        tally.Add(scheduled, DunningStatus.Exhausted, null, new Money(20m, "USD"));
        tally.Add(scheduled, DunningStatus.Exhausted, null, new Money(5m, "EUR"));
        tally.Add(scheduled, DunningStatus.Exhausted, null, new Money(7.5m, "USD"));

        var impact = tally.Impact();

        Assert.Equal((6, 3, 1, 1), (impact.CasesWaiting, impact.CasesClosing, impact.CasesAwaitingNewCard, impact.RetriesMoving));
        Assert.Equal([new Money(5m, "EUR"), new Money(27.5m, "USD")], impact.WrittenOff);
        var cancel = new PolicyImpactTally(FinalAction.CancelSubscription);
        cancel.Add(scheduled, DunningStatus.Exhausted, null, new Money(20m, "USD"));
        Assert.Equal((1, 0), (cancel.Impact().CasesClosing, cancel.Impact().WrittenOff.Count));
    }

    [Fact]
    public void The_confirmation_names_what_closes_what_is_written_off_and_what_moves()
    {
        var impact = new PolicyImpactPreview(new PolicyImpact(13, 4, 1, 8, [new Money(1234.5m, "EUR"), new Money(80m, "USD")]), 2, [new Money(40m, "USD")]);

        var sentences = PolicyImpactText.Sentences(impact, FinalAction.MarkUncollectible);

        Assert.Equal("Of 13 cases waiting for a retry: 4 cases close now (the invoice is marked uncollectible), writing off €1,234.50 and $80.00, " +
                     "8 retries move, 1 case waits for a new card.", sentences[0]);
        Assert.Equal("2 cases past the new final-action day close at the next ladder pass (the invoice is marked uncollectible), writing off $40.00.", sentences[1]);
        Assert.True(PolicyImpactText.MovesMoney(impact));
        Assert.False(PolicyImpactText.MovesMoney(new PolicyImpactPreview(new PolicyImpact(3, 0, 0, 3, []), 0, [])));
    }

    [Fact]
    public void A_case_is_stuck_when_its_retry_outlives_the_charge_deadline_or_an_attempt_stays_unconfirmed_past_the_grace()
    {
        var rule = new StuckCase(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(3));

        Assert.Null(rule.Why(isOpen: true, retryingSince: null, oldestUnconfirmedAttemptAt: null, Now));
        Assert.Null(rule.Why(isOpen: true, retryingSince: Now.AddSeconds(-9), oldestUnconfirmedAttemptAt: Now.AddSeconds(-9), Now));
        Assert.StartsWith("Its retry has been running since", rule.Why(isOpen: true, retryingSince: Now.AddSeconds(-11), oldestUnconfirmedAttemptAt: null, Now));
        Assert.Null(rule.Why(isOpen: true, retryingSince: null, oldestUnconfirmedAttemptAt: Now.AddMinutes(-2), Now));
        Assert.StartsWith("A payment attempt started", rule.Why(isOpen: true, retryingSince: null, oldestUnconfirmedAttemptAt: Now.AddMinutes(-4), Now));
        Assert.Null(rule.Why(isOpen: false, retryingSince: Now.AddHours(-1), oldestUnconfirmedAttemptAt: Now.AddHours(-1), Now));
    }

    [Theory]
    [InlineData(null, "Charges $20.00 to the customer's default payment method now.")]
    [InlineData(DeclineCodes.NoPaymentMethod, "There is no payment method on file")]
    [InlineData(DeclineCodes.StolenCard, "The last decline, stolen card, is a hard decline: the card network will decline")]
    [InlineData(DeclineCodes.LostCard, "count against the card network's retry limits")]
    public void Retry_now_warns_when_the_case_waits_on_a_hard_decline(string? hardDecline, string expected) =>
        Assert.Contains(expected, RetryNowText.For("$20.00", hardDecline));
}
