using System.Text.Json;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Tests.Infrastructure;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine.Dunning;

/// <summary>An admin changes the dunning policy: validation by field, versions, audit, and the cases waiting for a retry following the new version.</summary>
public sealed class DunningPolicyCommandsTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("ada@example.test", "admin");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("policy");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    private static SaveDunningPolicy FixedPolicy(string reason = "Retry on fixed days") => new()
    {
        Mode = RetryMode.Fixed,
        FixedIntervals = "2, 4, 6",
        AttemptBudget = 3,
        GracePeriodHours = 0,
        Ladder = [new() { Day = 10, Action = EscalationAction.Notify }, new() { Day = 20, Action = EscalationAction.FinalAction }],
        FinalAction = FinalAction.MarkUnpaid,
        HardDeclineCodes = [.. DeclineCodes.DefaultHard],
        FinalNoticeDaysBefore = 3,
        Reason = reason,
    };

    private async Task<DunningPolicyVersionView> SaveAsync(SaveDunningPolicy policy) =>
        (await _engine.InScopeAsync<DunningPolicyCommands, DunningPolicySaved>(commands => commands.SaveAsync(policy, Admin, Ct))).Saved;

    public static TheoryData<string, string> Mistakes => new()
    {
        { "zero interval", nameof(SaveDunningPolicy.FixedIntervals) },
        { "negative interval", nameof(SaveDunningPolicy.FixedIntervals) },
        { "interval not a number", nameof(SaveDunningPolicy.FixedIntervals) },
        { "sixteen retries", nameof(SaveDunningPolicy.FixedIntervals) },
        { "budget above the cap", nameof(SaveDunningPolicy.AttemptBudget) },
        { "ladder days not increasing", nameof(SaveDunningPolicy.Ladder) },
        { "no final action", nameof(SaveDunningPolicy.FinalAction) },
        { "final notice on the final action's day", nameof(SaveDunningPolicy.FinalNoticeDaysBefore) },
        { "no final notice days", nameof(SaveDunningPolicy.FinalNoticeDaysBefore) },
        { "no reason", nameof(SaveDunningPolicy.Reason) },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public async Task An_invalid_policy_is_refused_with_a_message_on_its_field_and_nothing_is_written(string mistake, string field)
    {
        var policy = FixedPolicy();
        switch (mistake)
        {
            case "zero interval": policy.FixedIntervals = "0, 3"; break;
            case "negative interval": policy.FixedIntervals = "-1, 3"; break;
            case "interval not a number": policy.FixedIntervals = "1, three"; break;
            case "sixteen retries": policy.FixedIntervals = string.Join(", ", Enumerable.Range(1, 16)); break;
            case "budget above the cap": policy.AttemptBudget = 16; break;
            case "ladder days not increasing": policy.Ladder[1].Day = 10; break;
            case "no final action": policy.FinalAction = null; break;
            case "final notice on the final action's day": policy.FinalNoticeDaysBefore = 20; break;
            case "no final notice days": policy.FinalNoticeDaysBefore = null; break;
            case "no reason": policy.Reason = " "; break;
        }

        var refused = await Assert.ThrowsAsync<ValidationException>(() => SaveAsync(policy));

        Assert.Contains(refused.Errors, e => e.PropertyName == field && e.ErrorMessage.Length > 10);
        await using var db = _database.NewContext();
        Assert.Equal(0, await db.DunningPolicies.CountAsync(Ct));
        Assert.Equal(0, await db.AuditLog.CountAsync(Ct));
    }

    [Fact]
    public async Task A_saved_policy_is_a_new_audited_version_and_the_next_scheduled_retry_follows_it()
    {
        var (_, price) = await _data.PlanAsync(20m);
        await _data.DueSubscriptionsAsync(price, 3, "pm_insufficient_funds_");
        await _engine.RunBillingAsync();
        List<DunningCase> opened;
        await using (var db = _database.NewContext())
            opened = await db.DunningCases.AsNoTracking().ToListAsync(Ct);
        Assert.Equal(3, opened.Count);
        Assert.All(opened, c => Assert.Equal(1, c.PolicyVersion));

        var saved = await SaveAsync(FixedPolicy("Fixed days test the new dunning emails"));

        Assert.Equal(2, saved.Version);
        await using (var db = _database.NewContext())
        {
            var audit = await db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "dunning_policy.saved", Ct);
            Assert.Equal((Admin.Name, "2", "Fixed days test the new dunning emails"), (audit.Actor, audit.EntityId, audit.Reason));
            Assert.Contains("\"statistical\"", audit.Before);
            Assert.Contains("\"fixed\"", audit.After);
            Assert.Contains("mark_unpaid", audit.After);
            var rescheduled = await db.DunningCases.AsNoTracking().ToListAsync(Ct);
            Assert.All(rescheduled, c =>
            {
                Assert.Equal(2, c.PolicyVersion);
                Assert.Equal(c.OpenedAt.AddDays(2), c.NextAttemptAt);
                Assert.Contains("day 2 of the fixed schedule (2, 4, 6)", c.NextAttemptReason);
            });
        }

        _engine.Clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(3, await _engine.Get<DunningRetryRunner>().RunDueAsync(Ct));

        await using (var db = _database.NewContext())
        {
            var afterRetry = await db.DunningCases.AsNoTracking().ToListAsync(Ct);
            Assert.All(afterRetry, c =>
            {
                Assert.Equal(1, c.RetriesMade);
                Assert.Equal(c.OpenedAt.AddDays(4), c.NextAttemptAt);
            });
            Assert.Equal(3, await db.PaymentAttempts.CountAsync(a => a.Trigger == PaymentTrigger.DunningRetry && a.StartedAt == _engine.Clock.GetUtcNow(), Ct));
        }
    }

    [Fact]
    public async Task A_saved_ladder_and_final_action_govern_open_cases_from_their_next_step_and_a_version_for_new_cases_only_leaves_them_be()
    {
        var (_, price) = await _data.PlanAsync(20m);
        var subscription = Assert.Single(await _data.DueSubscriptionsAsync(price, 1, "pm_expired_card_"));
        await _engine.RunBillingAsync();
        var shorter = FixedPolicy("A shorter ladder");
        shorter.Ladder = [new() { Day = 3, Action = EscalationAction.Notify }, new() { Day = 5, Action = EscalationAction.BlockPlanChanges },
            new() { Day = 8, Action = EscalationAction.FinalAction }];
        shorter.FinalNoticeDaysBefore = 2;
        await SaveAsync(shorter);
        // The default ladder (notify 10, final action 20, cancel), for new cases only: the open case stays on the shorter one.
        var forNewCases = FixedPolicy("The long ladder for new cases");
        forNewCases.FinalAction = FinalAction.CancelSubscription;
        forNewCases.ApplyToOpenCases = false;
        await SaveAsync(forNewCases);

        var stepsByDay = new Dictionary<int, string>();
        for (var day = 1; day <= 12; day++)
        {
            _engine.Clock.Advance(TimeSpan.FromDays(1));
            await _engine.InScopeAsync<DunningLadder, int>(ladder => ladder.RunDueAsync(Ct));
            await using var db = _database.NewContext();
            var state = await db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == subscription.Id, Ct);
            stepsByDay[day] = $"{state.Status} {(state.PlanChangesBlocked ? "blocked" : "open")} " +
                              string.Join(",", await db.Set<DunningStepTaken>().OrderBy(s => s.Day).Select(s => s.Day).ToListAsync(Ct));
        }

        Assert.Equal("PastDue open ", stepsByDay[2]);
        Assert.Equal("PastDue open 3", stepsByDay[3]);
        Assert.Equal("PastDue blocked 3,5", stepsByDay[5]);
        Assert.Equal("PastDue blocked 3,5", stepsByDay[7]);
        // The case closed with its final action, which lifts the block it set.
        Assert.Equal("Unpaid open 3,5,8", stepsByDay[8]);
        Assert.Equal("Unpaid open 3,5,8", stepsByDay[12]);
    }

    [Fact]
    public async Task Restoring_an_older_version_puts_its_settings_back_in_force_as_the_newest_version()
    {
        await SaveAsync(FixedPolicy());

        var restored = (await _engine.InScopeAsync<DunningPolicyCommands, DunningPolicySaved>(
            commands => commands.RestoreAsync(1, true, Admin, "The fixed days recovered less", Ct))).Saved;

        Assert.Equal(3, restored.Version);
        var versions = await _engine.InScopeAsync<DunningPolicyCommands, IReadOnlyList<DunningPolicyVersionView>>(commands => commands.VersionsAsync(Ct));
        Assert.Equal([3, 2, 1], versions.Select(v => v.Version));
        Assert.Equal(JsonSerializer.Serialize(DunningPolicyAudit.From(versions[2].Settings)), JsonSerializer.Serialize(DunningPolicyAudit.From(restored.Settings)));
        Assert.Equal(RetryMode.Statistical, restored.Settings.Mode);
        await using var db = _database.NewContext();
        var audit = await db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "dunning_policy.restored", Ct);
        Assert.Equal("Restored version 1: The fixed days recovered less", audit.Reason);
    }
}
