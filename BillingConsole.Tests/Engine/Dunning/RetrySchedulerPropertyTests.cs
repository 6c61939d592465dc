using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Dunning;
using BillingConsole.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static BillingConsole.Tests.Engine.Dunning.Dunning;

namespace BillingConsole.Tests.Engine.Dunning;

/// <summary>
/// Random policies and case histories, every retry failing, until the scheduler stops: whatever the inputs, the rules
/// the card networks and the policy set are never broken.
/// </summary>
[PureTests]
public sealed class RetrySchedulerPropertyTests
{
    /// <param name="History">Retries already made, as hours after the first failure (manual retries may break the spacing).</param>
    /// <param name="AnswerDelayHours">How long after each scheduled time the next decision is taken.</param>
    public sealed record Scenario(DunningPolicySettings Policy, string DeclineCode, int[] History, int AnswerDelayHours, int Model)
    {
        public override string ToString() =>
            $"{Policy.Mode} budget {Policy.AttemptBudget} days [{string.Join(",", Policy.FixedIntervalsDays)}] grace {Policy.GracePeriodHours}h " +
            $"final day {Policy.FinalActionDay}, {DeclineCode}, history [{string.Join(",", History)}]h, delay {AnswerDelayHours}h, model {Model}";
    }

    public static class Scenarios
    {
        public static Arbitrary<Scenario> Any() =>
            (from mode in Gen.Elements(RetryMode.Fixed, RetryMode.Statistical)
             from budget in Gen.Choose(1, 40)
             from days in Gen.SubListOf(Enumerable.Range(1, 30).ToArray()).Where(d => d.Count > 0)
             from grace in Gen.Choose(0, 168)
             from finalDay in Gen.Choose(1, 45)
             from code in Gen.Elements(DeclineCodes.All.Append(DeclineCodes.TryAgainLater).ToArray())
             from historyCount in Gen.Frequency((3, Gen.Constant(0)), (2, Gen.Choose(1, 20)))
             from history in Gen.ArrayOf(Gen.Choose(0, 24 * 30), historyCount)
             from delay in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(1, 72)))
             from model in Gen.Choose(0, 2)
             select new Scenario(
                 DunningPolicySettings.Default with
                 {
                     Mode = mode,
                     AttemptBudget = budget,
                     FixedIntervalsDays = days.Order().ToArray(),
                     GracePeriodHours = grace,
                     Ladder = [new(finalDay, EscalationAction.FinalAction)],
                 },
                 code, history.Order().ToArray(), delay, model)).ToArbitrary();
    }

    private static readonly IRecoveryModel[] Models =
    [
        RecoveryStatistics.Priors,
        new ModelOf(q => q.LocalTime.Day % 7 == 0 ? 0.9 : 0.05),
        new ModelOf(q => 0.6 * Math.Exp(-0.5 * q.DaysSinceFirstFailure)),
    ];

    [Property(MaxTest = 150, Arbitrary = [typeof(Scenarios)])]
    public void Retries_keep_to_the_budget_the_network_cap_the_window_the_grace_period_and_the_spacing(Scenario scenario)
    {
        var policy = scenario.Policy;
        var history = scenario.History.Select(h => FirstFailure.AddHours(h)).ToList();
        var start = Context(scenario.DeclineCode, retries: history, now: history.Count == 0 ? FirstFailure : history.Max());

        var (retries, stop) = RunToStop(start, policy, Models[scenario.Model], at => at.AddHours(scenario.AnswerDelayHours));
        var added = retries.Skip(history.Count).ToList();

        if (policy.IsHardDecline(scenario.DeclineCode))
        {
            Assert.Empty(added);
            Assert.Equal(StopKind.HardDecline, stop.Kind);
            return;
        }
        Assert.True(retries.Count <= Math.Max(history.Count, policy.EffectiveBudget));
        Assert.True(policy.EffectiveBudget <= DunningPolicySettings.NetworkRetryCap);
        if (policy.Mode == RetryMode.Fixed) Assert.True(added.Count <= policy.FixedIntervalsDays.Count);
        var windowEnd = FirstFailure.AddDays(Math.Min(policy.FinalActionDay, DunningPolicySettings.NetworkCapWindowDays));
        var spacing = RetrySchedulerOptions.Default.MinimumSpacing;
        foreach (var at in added)
        {
            Assert.InRange(at, FirstFailure.AddHours(policy.GracePeriodHours), windowEnd);
            Assert.True(retries.Where(other => other < at).All(other => at - other >= spacing), $"{at:O} is closer than {spacing} to an earlier retry.");
            Assert.True(retries.Count(other => other > at.AddDays(-30) && other <= at) <= DunningPolicySettings.NetworkRetryCap,
                $"More than {DunningPolicySettings.NetworkRetryCap} retries in the 30 days up to {at:O}.");
        }
    }
}
