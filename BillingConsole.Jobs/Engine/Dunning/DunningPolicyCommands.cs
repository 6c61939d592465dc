using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Engine.Dunning;

/// <summary>A stored policy version as the settings page lists it.</summary>
public sealed record DunningPolicyVersionView(int Version, DunningPolicySettings Settings, string CreatedBy, string Reason, DateTimeOffset CreatedAt,
    bool AppliesToOpenCases);

/// <summary>A version just saved, and what it did to the cases waiting for a retry (nothing when saved for new cases only).</summary>
public sealed record DunningPolicySaved(DunningPolicyVersionView Saved, PolicyImpact Impact);

/// <summary>
/// The admin's changes to the dunning policy. Every change, a restore included, is a new version (new cases open under the
/// newest), audited with the admin, the reason and the policy before and after. Saved for open cases, the cases waiting for
/// a retry are then rescheduled by it, so the next scheduled retry already follows it; saved for new cases only, open
/// cases keep the version they follow.
/// </summary>
public sealed class DunningPolicyCommands(
    BillingDbContext db,
    DunningService dunning,
    AuditTrail audit,
    DunningPolicyImpactPreviewer previewer,
    TimeProvider clock,
    IValidator<SaveDunningPolicy> validator)
{
    public async Task<DunningPolicyVersionView> CurrentAsync(CancellationToken ct)
    {
        var current = await dunning.CurrentPolicyAsync(ct);
        return (await VersionsAsync(ct)).First(v => v.Version == current.Version);
    }

    /// <summary>Every version, newest first (a policy changes a few times a year, so the list stays short).</summary>
    public async Task<IReadOnlyList<DunningPolicyVersionView>> VersionsAsync(CancellationToken ct) =>
        await db.DunningPolicies.AsNoTracking().OrderByDescending(p => p.Version)
            .Select(p => new DunningPolicyVersionView(p.Version, p.Settings, p.CreatedBy, p.Reason, p.CreatedAt, p.AppliesToOpenCases))
            .ToListAsync(ct);

    /// <summary>What saving <paramref name="command"/> for open cases would do to them now; writes nothing.</summary>
    public async Task<PolicyImpactPreview> PreviewAsync(SaveDunningPolicy command, CancellationToken ct)
    {
        // The reason is for saving; a preview needs only a valid policy.
        var errors = (await validator.ValidateAsync(command, ct)).Errors.Where(e => e.PropertyName != nameof(SaveDunningPolicy.Reason)).ToList();
        if (errors.Count > 0) throw new ValidationException(errors);
        return await previewer.PreviewAsync(command.ToSettings(), ct);
    }

    public async Task<DunningPolicySaved> SaveAsync(SaveDunningPolicy command, Actor actor, CancellationToken ct)
    {
        await validator.ValidateAndThrowAsync(command, ct);
        return await AddVersionAsync(command.ToSettings(), command.ApplyToOpenCases, "dunning_policy.saved", actor, command.Reason!, ct);
    }

    /// <summary>Puts an older version's settings back in force, as a new version, for open cases too or for new cases only.</summary>
    public async Task<DunningPolicySaved> RestoreAsync(int version, bool applyToOpenCases, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        var restored = await db.DunningPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.Version == version, ct)
            ?? throw new DomainRuleException($"There is no policy version {version}.");
        return await AddVersionAsync(restored.Settings, applyToOpenCases, "dunning_policy.restored", actor, $"Restored version {version}: {reason}", ct);
    }

    private async Task<DunningPolicySaved> AddVersionAsync(DunningPolicySettings settings, bool applyToOpenCases, string action, Actor actor,
        string reason, CancellationToken ct)
    {
        var current = await dunning.CurrentPolicyAsync(ct);
        var saved = new DunningPolicyVersion(current.Version + 1, settings, actor.Name, reason, clock.GetUtcNow(), applyToOpenCases);
        db.DunningPolicies.Add(saved);
        audit.Record(actor, applyToOpenCases ? action : $"{action}_for_new_cases", "dunning_policy", saved.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), reason,
            DunningPolicyAudit.From(current.Settings), DunningPolicyAudit.From(settings));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            throw new DomainRuleException($"Another admin saved policy version {saved.Version} a moment ago: reload the page and try again.");
        }
        var impact = applyToOpenCases ? await dunning.RescheduleWaitingCasesAsync(saved.Version, ct) : PolicyImpact.None;
        return new DunningPolicySaved(
            new DunningPolicyVersionView(saved.Version, saved.Settings, saved.CreatedBy, saved.Reason, saved.CreatedAt, saved.AppliesToOpenCases), impact);
    }
}

/// <summary>A policy as the audit log shows it: names instead of enum numbers.</summary>
public sealed record DunningPolicyAudit(string Mode, IReadOnlyList<int> FixedIntervalsDays, int AttemptBudget, IReadOnlyList<string> Ladder,
    string FinalAction, int GracePeriodHours, IReadOnlyList<string> HardDeclineCodes, bool NotifyRetryScheduled, int FinalNoticeDaysBefore)
{
    public static DunningPolicyAudit From(DunningPolicySettings p) => new(p.Mode.ToSnakeCase(), p.FixedIntervalsDays, p.AttemptBudget,
        [.. p.Ladder.Select(s => $"day {s.Day}: {s.Action.ToSnakeCase()}")], p.FinalAction.ToSnakeCase(), p.GracePeriodHours, p.HardDeclineCodes,
        p.NotifyRetryScheduled, p.FinalNoticeDaysBefore);
}
