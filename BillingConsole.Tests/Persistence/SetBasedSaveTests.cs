using BillingConsole.Domain.Notifications;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Changes;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Persistence;

/// <summary>
/// Dunning's set-based save: a round's cases, audit entries and emails written with one statement per table, as EF's own
/// save would write them, announced once committed, and refused whole when a case changed since it was read.
/// </summary>
public sealed class SetBasedSaveTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("setbasedsave");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>The id of the dunning case opened by a declined first charge of a new invoice.</summary>
    private async Task<Guid> DeclinedCaseAsync()
    {
        var (invoiceId, _) = await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_");
        await _engine.InScopeAsync<PaymentProcessor, IReadOnlyList<ChargeResult>>(p =>
            p.ChargeManyAsync([invoiceId], PaymentTrigger.BillingRun, Actor.System, Ct));
        await using var db = _database.NewContext();
        return await db.DunningCases.Where(c => c.InvoiceId == invoiceId).Select(c => c.Id).SingleAsync(Ct);
    }

    [Fact]
    public async Task Cases_audit_entries_and_emails_are_written_and_the_cases_announced_once_committed()
    {
        var caseIds = new[] { await DeclinedCaseAsync(), await DeclinedCaseAsync() };
        using var announced = new ChangeRecorder(_engine.Get<ChangeFeed>());
        _engine.Clock.Advance(TimeSpan.FromMinutes(5));
        var now = _engine.Clock.GetUtcNow();

        await using (var scope = _engine.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
            var audit = scope.ServiceProvider.GetRequiredService<AuditTrail>();
            foreach (var dunningCase in await db.DunningCases.Where(c => caseIds.Contains(c.Id)).ToListAsync(Ct))
            {
                dunningCase.RecordDeclineOutsideRetry("do_not_honor", now);
                audit.Record(Actor.System, "dunning.declined", "dunning_case", dunningCase.Id, $"Declined again: {dunningCase.Id}.");
                db.Notifications.Add(new Notification(dunningCase.CustomerId, "dunning_test_notice", dunningCase.Id.ToString(), dunningCase.InvoiceId,
                    dunningCase.Id, now));
            }
            await scope.ServiceProvider.GetRequiredService<SetBasedSave>().SaveChangesAsync(Ct);
        }

        await using var check = _database.NewContext();
        var cases = await check.DunningCases.Where(c => caseIds.Contains(c.Id)).ToListAsync(Ct);
        Assert.All(cases, c => Assert.Equal(("do_not_honor", now), (c.LastDeclineCode, c.UpdatedAt)));
        var entries = await check.AuditLog.Where(a => a.Action == "dunning.declined").ToListAsync(Ct);
        Assert.Equal(caseIds.Select(id => (id.ToString(), $"Declined again: {id}.", now)).Order(),
            entries.Select(a => (a.EntityId, a.Reason, a.OccurredAt)).Order());
        var notices = await check.Notifications.Where(n => n.Kind == "dunning_test_notice").ToListAsync(Ct);
        Assert.Equal(caseIds.Select(id => ((Guid?)id, NotificationStatus.Pending, (DateTimeOffset?)now)).Order(),
            notices.Select(n => (n.DunningCaseId, n.Status, n.NextAttemptAt)).Order());
        foreach (var id in caseIds) Assert.NotEmpty(await announced.WaitForAsync(id, TimeSpan.FromSeconds(5)));

        // The row versions moved on: a later save of the same cases through EF finds them as it read them.
        foreach (var dunningCase in cases) dunningCase.RecordDeclineOutsideRetry("expired_card", now);
        await check.SaveChangesAsync(Ct);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_case_changed_by_someone_else_since_it_was_read_fails_the_save_and_nothing_of_the_save_stays(bool inCallersTransaction)
    {
        var (changedElsewhere, untouched) = (await DeclinedCaseAsync(), await DeclinedCaseAsync());
        _engine.Clock.Advance(TimeSpan.FromMinutes(5));
        var now = _engine.Clock.GetUtcNow();
        string? declinedFirst;
        await using (var before = _database.NewContext())
            declinedFirst = (await before.DunningCases.SingleAsync(c => c.Id == untouched, Ct)).LastDeclineCode;

        await using (var scope = _engine.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
            await using var transaction = inCallersTransaction ? await db.Database.BeginTransactionAsync(Ct) : null;
            foreach (var dunningCase in await db.DunningCases.Where(c => c.Id == changedElsewhere || c.Id == untouched).ToListAsync(Ct))
            {
                dunningCase.RecordDeclineOutsideRetry("do_not_honor", now);
                scope.ServiceProvider.GetRequiredService<AuditTrail>().Record(Actor.System, "dunning.declined", "dunning_case", dunningCase.Id, "Declined again.");
            }
            await using (var other = _database.NewContext())
            {
                var meanwhile = await other.DunningCases.SingleAsync(c => c.Id == changedElsewhere, Ct);
                meanwhile.RecordDeclineOutsideRetry("expired_card", now);
                await other.SaveChangesAsync(Ct);
            }

            await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => scope.ServiceProvider.GetRequiredService<SetBasedSave>().SaveChangesAsync(Ct));
            if (transaction is not null) await transaction.CommitAsync(Ct);
        }

        await using var check = _database.NewContext();
        Assert.Equal("expired_card", (await check.DunningCases.SingleAsync(c => c.Id == changedElsewhere, Ct)).LastDeclineCode);
        Assert.Equal(declinedFirst, (await check.DunningCases.SingleAsync(c => c.Id == untouched, Ct)).LastDeclineCode);
        Assert.False(await check.AuditLog.AnyAsync(a => a.Action == "dunning.declined", Ct));
    }
}
