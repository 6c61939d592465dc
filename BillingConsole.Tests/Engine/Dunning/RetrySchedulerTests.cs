using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Dunning;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Tests.Engine.Dunning.Dunning;

namespace BillingConsole.Tests.Engine.Dunning;

[PureTests]
public sealed class RetrySchedulerTests
{
    private static readonly RetryScheduler Scheduler = new();
    private static readonly IRecoveryModel Flat = new ModelOf(_ => 0.2);

    [Fact]
    public void Fixed_mode_retries_on_the_schedule_days_after_the_first_failure_then_stops()
    {
        var (retries, stop) = RunToStop(Context(), Fixed(1, 3, 5, 7), Flat);

        Assert.Equal([FirstFailure.AddDays(1), FirstFailure.AddDays(3), FirstFailure.AddDays(5), FirstFailure.AddDays(7)], retries);
        Assert.Equal(StopKind.BudgetExhausted, stop.Kind);
        Assert.Equal("All 4 retries of the fixed schedule are used.", stop.Reason);
    }

    [Fact]
    public void Fixed_mode_keys_on_the_first_failure_even_when_a_retry_was_answered_late()
    {
        var retries = new List<DateTimeOffset> { FirstFailure.AddDays(1).AddHours(3) };

        var retry = Assert.IsType<RetryDecision.Retry>(Scheduler.Next(Context(retries: retries), Fixed(1, 3), Flat));

        Assert.Equal(FirstFailure.AddDays(3), retry.At);
        Assert.Equal("Retry 2 of 2 on day 3 of the fixed schedule (1, 3); estimated 20%.", retry.Reason);
    }

    [Fact]
    public void The_first_retry_waits_for_the_grace_period()
    {
        var policy = Fixed(1, 3) with { GracePeriodHours = 36 };

        var retry = Assert.IsType<RetryDecision.Retry>(Scheduler.Next(Context(), policy, Flat));

        Assert.Equal(FirstFailure.AddHours(36), retry.At);
        Assert.Contains("held back to the earliest allowed time", retry.Reason);
    }

    [Fact]
    public void A_late_decision_retries_now_rather_than_in_the_past()
    {
        var now = FirstFailure.AddDays(2);

        var retry = Assert.IsType<RetryDecision.Retry>(Scheduler.Next(Context(now: now), Fixed(1, 3), Flat));

        Assert.Equal(now, retry.At);
    }

    [Fact]
    public void Statistical_mode_waits_for_the_grace_period_and_the_minimum_spacing()
    {
        var decaying = new ModelOf(q => 0.3 * Math.Exp(-0.1 * q.DaysSinceFirstFailure));
        var first = Assert.IsType<RetryDecision.Retry>(Scheduler.Next(Context(), Statistical(4) with { GracePeriodHours = 20 }, decaying));
        var lastRetry = FirstFailure.AddDays(2);
        var second = Assert.IsType<RetryDecision.Retry>(Scheduler.Next(Context(retries: [lastRetry], now: lastRetry.AddMinutes(5)), Statistical(4), decaying));

        Assert.Equal(FirstFailure.AddHours(20), first.At);
        // No factor stands out, and the reason still names the decline it plans for.
        Assert.Equal("Retry 1 of 4 on Thu 6 Mar 09:20 (customer's time): as soon as allowed: no later slot is enough better for insufficient_funds to wait for; estimated 28%.",
            first.Reason);
        Assert.Equal(lastRetry + RetrySchedulerOptions.Default.MinimumSpacing, second.At);
    }

    public static TheoryData<string> HardDeclines => [.. DeclineCodes.DefaultHard];

    [Theory]
    [MemberData(nameof(HardDeclines))]
    public void Hard_declines_are_never_retried(string declineCode)
    {
        foreach (var policy in new[] { Fixed(1, 3), Statistical(8) })
        {
            var stop = Assert.IsType<RetryDecision.Stop>(Scheduler.Next(Context(declineCode), policy, Flat));
            Assert.Equal(StopKind.HardDecline, stop.Kind);
            Assert.Contains("waits for a new payment method", stop.Reason);
        }
    }

    [Fact]
    public void A_payment_the_bank_wants_authenticated_is_never_retried_off_session()
    {
        foreach (var policy in new[] { Fixed(1, 3), Statistical(8) })
        {
            var stop = Assert.IsType<RetryDecision.Stop>(Scheduler.Next(Context(DeclineCodes.AuthenticationRequired), policy, Flat));
            Assert.Equal(StopKind.AuthenticationRequired, stop.Kind);
            Assert.Contains("waits for the customer to confirm it", stop.Reason);
        }
    }

    [Fact]
    public void A_soft_decline_after_a_hard_one_is_judged_by_the_last_failure()
    {
        var context = Context() with { FirstDeclineCode = DeclineCodes.ExpiredCard };

        Assert.IsType<RetryDecision.Retry>(Scheduler.Next(context, Statistical(8), Flat));
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(40, 15)]
    public void The_budget_stops_retries_and_never_exceeds_the_network_cap(int budget, int allowed)
    {
        var (retries, stop) = RunToStop(Context(), Statistical(budget) with { Ladder = [new(30, EscalationAction.FinalAction)] }, Flat);

        Assert.Equal(allowed, retries.Count);
        Assert.Equal(StopKind.BudgetExhausted, stop.Kind);
    }

    [Fact]
    public void Nothing_is_retried_after_the_final_action_day()
    {
        var lastRetry = FirstFailure.AddDays(20).AddHours(14);

        var stop = Assert.IsType<RetryDecision.Stop>(Scheduler.Next(Context(retries: [lastRetry]), Statistical(8), Flat));
        var fixedStop = Assert.IsType<RetryDecision.Stop>(Scheduler.Next(Context(), Fixed(25), Flat));

        Assert.Equal(StopKind.WindowOver, stop.Kind);
        Assert.Equal("No retry fits before the final action on day 21.", stop.Reason);
        Assert.Equal(StopKind.WindowOver, fixedStop.Kind);
    }

    [Fact]
    public void Without_a_final_action_before_it_the_card_networks_30_days_close_the_window()
    {
        var policy = Statistical(8) with { Ladder = [new(45, EscalationAction.FinalAction)] };

        var stop = Assert.IsType<RetryDecision.Stop>(Scheduler.Next(Context(now: FirstFailure.AddDays(30).AddHours(1)), policy, Flat));

        Assert.Equal("No retry fits before the card networks' 30-day window closes.", stop.Reason);
    }

    [Fact]
    public void Statistical_mode_waits_for_the_payday_window_when_the_model_says_it_pays()
    {
        // Failed on Wednesday 5 March; the model knows retries on the 15th and 16th succeed five times as often.
        var payday = new ModelOf(
            q => q.LocalTime.Day is 15 or 16 ? 0.5 : 0.1,
            q => q.LocalTime.Day is 15 or 16 ? [new RecoveryFactor("the payday window after the 15th", 5)] : []);

        var retry = Assert.IsType<RetryDecision.Retry>(Scheduler.Next(Context(), Statistical(3), payday));

        Assert.Equal(new DateTimeOffset(2025, 3, 15, 0, 0, 0, TimeSpan.Zero), retry.At);
        Assert.Equal(0.5, retry.EstimatedProbability);
        Assert.Equal("Retry 1 of 3 on Sat 15 Mar 00:00 (customer's time): the payday window after the 15th 5.0× better than average for insufficient_funds; estimated 50%.",
            retry.Reason);
    }

    [Fact]
    public void Statistical_mode_tries_early_first_when_the_budget_leaves_room_for_the_payday_window()
    {
        // Two retries fit in the window; the other two are worth more spent early than not at all.
        var payday = new ModelOf(q => q.LocalTime.Day is 15 ? 0.5 : 0.1);

        var (retries, _) = RunToStop(Context(), Statistical(4), payday);

        Assert.Equal(4, retries.Count);
        Assert.Equal(2, retries.Count(at => at.Day == 15));
        Assert.True(retries[0] < new DateTimeOffset(2025, 3, 15, 0, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void Statistical_mode_picks_the_weekday_and_hour_the_model_favours()
    {
        var tuesdayMornings = new ModelOf(q => q.LocalTime is { DayOfWeek: DayOfWeek.Tuesday, Hour: 6 } ? 0.42 : 0.3);

        var retry = Assert.IsType<RetryDecision.Retry>(Scheduler.Next(Context(), Statistical(1), tuesdayMornings));

        Assert.Equal(new DateTimeOffset(2025, 3, 11, 6, 0, 0, TimeSpan.Zero), retry.At);
    }

    [Fact]
    public void A_small_gain_is_not_worth_a_long_wait()
    {
        // Tuesday 06:00 is 2% better, but six days of 3% decay cost more.
        var model = new ModelOf(q => (q.LocalTime is { DayOfWeek: DayOfWeek.Tuesday, Hour: 6 } ? 0.306 : 0.3) * Math.Exp(-0.03 * q.DaysSinceFirstFailure));

        var retry = Assert.IsType<RetryDecision.Retry>(Scheduler.Next(Context(), Statistical(1), model));

        Assert.Equal(FirstFailure.AddHours(12), retry.At);
    }

    [Fact]
    public void Hours_are_the_customers_own()
    {
        var tokyo = TimeZoneInfo.CreateCustomTimeZone("UTC+09", TimeSpan.FromHours(9), "UTC+09", "UTC+09");
        var earlyMornings = new ModelOf(q => q.LocalTime.Hour == 6 ? 0.4 : 0.2);

        var retry = Assert.IsType<RetryDecision.Retry>(Scheduler.Next(Context(zone: tokyo), Statistical(1), earlyMornings));

        Assert.Equal(new DateTimeOffset(2025, 3, 6, 21, 0, 0, TimeSpan.Zero), retry.At);
        Assert.Contains("on Fri 7 Mar 06:00 (customer's time)", retry.Reason);
    }

    [Fact]
    public void With_priors_only_a_new_install_schedules_sensible_retries()
    {
        var (retries, stop) = RunToStop(Context(), Statistical(8), RecoveryStatistics.Priors);

        Assert.Equal(8, retries.Count);
        Assert.Equal(StopKind.BudgetExhausted, stop.Kind);
        Assert.All(retries, at => Assert.InRange(at, FirstFailure.AddHours(12), FirstFailure.AddDays(21)));
        Assert.All(retries.Zip(retries.Skip(1)), pair => Assert.True(pair.Second - pair.First >= TimeSpan.FromHours(12)));
    }
}
