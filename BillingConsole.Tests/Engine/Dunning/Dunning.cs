using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Engine.Dunning;

namespace BillingConsole.Tests.Engine.Dunning;

/// <summary>Builders shared by the dunning scheduler tests.</summary>
internal static class Dunning
{
    /// <summary>A Wednesday, mid-afternoon, away from every payday.</summary>
    public static readonly DateTimeOffset FirstFailure = new(2025, 3, 5, 13, 20, 0, TimeSpan.Zero);

    public static RetryContext Context(string declineCode = "insufficient_funds", DateTimeOffset? firstFailure = null,
        IReadOnlyList<DateTimeOffset>? retries = null, DateTimeOffset? now = null, TimeZoneInfo? zone = null)
    {
        var first = firstFailure ?? FirstFailure;
        retries ??= [];
        return new RetryContext(declineCode, declineCode, first, retries, new Money(49.90m, "USD"), zone ?? TimeZoneInfo.Utc,
            now ?? (retries.Count == 0 ? first : retries.Max()));
    }

    public static DunningPolicySettings Fixed(params int[] days) =>
        DunningPolicySettings.Default with { Mode = RetryMode.Fixed, FixedIntervalsDays = days, AttemptBudget = 15 };

    public static DunningPolicySettings Statistical(int budget) =>
        DunningPolicySettings.Default with { Mode = RetryMode.Statistical, AttemptBudget = budget };

    /// <summary>Asks for retries until the scheduler stops, every retry failing at the time it was scheduled.</summary>
    public static (List<DateTimeOffset> Retries, RetryDecision.Stop Stop) RunToStop(RetryContext start, DunningPolicySettings policy,
        IRecoveryModel model, Func<DateTimeOffset, DateTimeOffset>? answeredAt = null)
    {
        var retries = start.RetriesMadeAt.ToList();
        var context = start;
        var scheduler = new RetryScheduler();
        while (true)
        {
            switch (scheduler.Next(context, policy, model))
            {
                case RetryDecision.Stop stop:
                    return (retries, stop);
                case RetryDecision.Retry retry:
                    Assert.True(retry.At >= context.Now, $"{retry.At:O} is before the decision at {context.Now:O}.");
                    retries.Add(retry.At);
                    context = context with { RetriesMadeAt = retries.ToList(), Now = (answeredAt ?? (at => at))(retry.At) };
                    break;
            }
        }
    }
}

/// <summary>A recovery model written as a function, for tests that need the model to say one thing clearly.</summary>
internal sealed class ModelOf(Func<RecoveryQuery, double> probability, Func<RecoveryQuery, IReadOnlyList<RecoveryFactor>>? explain = null) : IRecoveryModel
{
    public double Probability(in RecoveryQuery query) => probability(query);

    public IReadOnlyList<RecoveryFactor> Explain(in RecoveryQuery query) => explain?.Invoke(query) ?? [];
}
