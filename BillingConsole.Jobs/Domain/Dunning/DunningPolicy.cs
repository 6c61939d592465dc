using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;

namespace BillingConsole.Domain.Dunning;

public enum RetryMode { Fixed, Statistical }

public enum EscalationAction { Notify, BlockPlanChanges, FinalAction }

public enum FinalAction { CancelSubscription, MarkUnpaid, MarkUncollectible }

public sealed record EscalationStep(int Day, EscalationAction Action);

/// <summary>
/// How the business collects an overdue invoice: when to retry, how many times, and what happens as days pass.
/// Stored as versions; the newest version is in force.
/// </summary>
public sealed record DunningPolicySettings
{
    /// <summary>The card networks' limit: at most 15 retries of one payment in 30 days.</summary>
    public const int NetworkRetryCap = 15;
    public const int NetworkCapWindowDays = 30;

    public RetryMode Mode { get; init; } = RetryMode.Statistical;
    /// <summary>Days after the first failure for each retry in fixed mode, e.g. 1, 3, 5, 7.</summary>
    public IReadOnlyList<int> FixedIntervalsDays { get; init; } = [1, 3, 5, 7];
    public int AttemptBudget { get; init; } = 8;
    public IReadOnlyList<EscalationStep> Ladder { get; init; } =
        [new(10, EscalationAction.Notify), new(14, EscalationAction.BlockPlanChanges), new(21, EscalationAction.FinalAction)];
    public FinalAction FinalAction { get; init; } = FinalAction.MarkUncollectible;
    /// <summary>Hours after the failure before the first retry may run.</summary>
    public int GracePeriodHours { get; init; } = 12;
    public IReadOnlyList<string> HardDeclineCodes { get; init; } = DeclineCodes.DefaultHard;
    /// <summary>Whether the customer gets an email each time a retry is scheduled, saying when their card will be charged again.</summary>
    public bool NotifyRetryScheduled { get; init; }
    /// <summary>Days before the final action's day on which the customer gets a final notice; 0 sends none.</summary>
    public int FinalNoticeDaysBefore { get; init; } = 3;

    public static DunningPolicySettings Default { get; } = new();

    /// <summary>The budget actually used: never above the network cap.</summary>
    public int EffectiveBudget => Math.Min(AttemptBudget, NetworkRetryCap);

    public int FinalActionDay => Ladder.Where(s => s.Action == EscalationAction.FinalAction).Select(s => s.Day).DefaultIfEmpty(NetworkCapWindowDays).Min();

    /// <summary>The day of the final notice, or null when the policy sends none.</summary>
    public int? FinalNoticeDay => FinalNoticeDaysBefore > 0 ? FinalActionDay - FinalNoticeDaysBefore : null;

    public bool IsHardDecline(string? declineCode) => declineCode is not null && HardDeclineCodes.Contains(declineCode);

    /// <summary>Every rule broken, by field name, as a person should read it. Empty when the policy is valid.</summary>
    public IReadOnlyDictionary<string, string> Validate()
    {
        var errors = new Dictionary<string, string>();
        if (Mode == RetryMode.Fixed && FixedIntervalsDays.Count == 0)
            errors[nameof(FixedIntervalsDays)] = "Give at least one retry interval.";
        if (FixedIntervalsDays.Any(d => d <= 0))
            errors[nameof(FixedIntervalsDays)] = "Retry intervals must be whole days greater than zero.";
        else if (FixedIntervalsDays.Zip(FixedIntervalsDays.Skip(1)).Any(pair => pair.Second <= pair.First))
            errors[nameof(FixedIntervalsDays)] = "Retry days must be strictly increasing (e.g. 1, 3, 5, 7).";
        else if (FixedIntervalsDays.Any(d => d > NetworkCapWindowDays))
            errors[nameof(FixedIntervalsDays)] = $"Retries must fall within {NetworkCapWindowDays} days of the first failure.";
        else if (FixedIntervalsDays.Count > NetworkRetryCap)
            errors[nameof(FixedIntervalsDays)] = $"At most {NetworkRetryCap} retries: card networks allow no more in {NetworkCapWindowDays} days.";
        if (AttemptBudget < 1 || AttemptBudget > NetworkRetryCap)
            errors[nameof(AttemptBudget)] = $"The attempt budget must be between 1 and {NetworkRetryCap} (card networks allow at most {NetworkRetryCap} retries in {NetworkCapWindowDays} days).";
        if (Ladder.Any(s => s.Day <= 0))
            errors[nameof(Ladder)] = "Escalation days must be greater than zero.";
        else if (Ladder.Zip(Ladder.Skip(1)).Any(pair => pair.Second.Day <= pair.First.Day))
            errors[nameof(Ladder)] = "Escalation days must be strictly increasing.";
        else if (Ladder.Count(s => s.Action == EscalationAction.FinalAction) != 1)
            errors[nameof(Ladder)] = "The ladder needs exactly one final-action step.";
        else if (Ladder[^1].Action != EscalationAction.FinalAction)
            errors[nameof(Ladder)] = "The final action must be the last step of the ladder.";
        if (!Enum.IsDefined(FinalAction))
            errors[nameof(FinalAction)] = "Choose a final action.";
        if (GracePeriodHours is < 0 or > 168)
            errors[nameof(GracePeriodHours)] = "The grace period must be between 0 and 168 hours.";
        if (FinalNoticeDaysBefore < 0 || FinalNoticeDaysBefore >= FinalActionDay)
            errors[nameof(FinalNoticeDaysBefore)] =
                $"The final notice goes 0 (none) to {FinalActionDay - 1} days before the final action on day {FinalActionDay}.";
        return errors;
    }
}

/// <summary>
/// One saved version of the policy. New cases always follow the newest version; open cases follow the newest version that
/// applies to open cases, or keep the version they were opened with when that is newer (see <see cref="PoliciesInForce"/>).
/// </summary>
public sealed class DunningPolicyVersion
{
    private DunningPolicyVersion() { }

    public DunningPolicyVersion(int version, DunningPolicySettings settings, string createdBy, string reason, DateTimeOffset createdAt,
        bool appliesToOpenCases = true)
    {
        var errors = settings.Validate();
        if (errors.Count > 0) throw new DomainRuleException(string.Join(" ", errors.Values));
        if (version < 1) throw new DomainRuleException("Policy versions start at 1.");
        Version = version;
        Settings = settings;
        CreatedBy = createdBy;
        Reason = reason;
        CreatedAt = createdAt;
        AppliesToOpenCases = appliesToOpenCases;
    }

    public int Version { get; private set; }
    public DunningPolicySettings Settings { get; private set; } = DunningPolicySettings.Default;
    public string CreatedBy { get; private set; } = string.Empty;
    public string Reason { get; private set; } = string.Empty;
    public DateTimeOffset CreatedAt { get; private set; }
    /// <summary>False when the admin chose "new cases only": cases open when it was saved keep the version they follow.</summary>
    public bool AppliesToOpenCases { get; private set; } = true;
}

/// <summary>
/// The policy versions open cases can follow: the newest version that applies to open cases, and every newer "new cases
/// only" version, which the cases opened under it keep.
/// </summary>
public sealed class PoliciesInForce
{
    private readonly IReadOnlyDictionary<int, DunningPolicySettings> _versions;

    public PoliciesInForce(IEnumerable<DunningPolicyVersion> versions)
    {
        var all = versions.ToList();
        if (all.Count == 0) throw new DomainRuleException("There is no dunning policy version.");
        Newest = all.Max(v => v.Version);
        AppliedToOpenCases = all.Where(v => v.AppliesToOpenCases).Select(v => v.Version).DefaultIfEmpty(all.Min(v => v.Version)).Max();
        _versions = all.Where(v => v.Version >= AppliedToOpenCases).ToDictionary(v => v.Version, v => v.Settings);
    }

    /// <summary>The version new cases open under.</summary>
    public int Newest { get; }

    /// <summary>The newest version saved for open cases as well: every case opened under an older version follows it.</summary>
    public int AppliedToOpenCases { get; }

    public IEnumerable<DunningPolicySettings> All => _versions.Values;

    /// <summary>The version a case opened under (or last moved to) <paramref name="caseVersion"/> follows now, and its settings.</summary>
    public (int Version, DunningPolicySettings Settings) For(int caseVersion)
    {
        var version = Math.Max(caseVersion, AppliedToOpenCases);
        return (version, _versions[version]);
    }
}
