using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Notifications;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.TestClocks;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Tests.Engine.TestClocks;

/// <summary>
/// A test clock's advance over a real database: the real billing run, charges, dunning retries and emails act on the clock's
/// customer in the clock's time, and nothing happens to a customer outside the clock, whose work the regular passes still do.
/// </summary>
public sealed class TestClockAdvanceTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("admin@example.test", "admin");

    private MigratedDatabase _database = null!;
    private TestSmtpServer _smtp = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("test_clock_advance");
        _smtp = TestSmtpServer.Start();
        _engine = EngineServices.Create(_database, settings: _smtp.Settings());
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
        await using var db = _database.NewContext();
        db.DunningPolicies.Add(new DunningPolicyVersion(1, Dunning.Dunning.Fixed(1, 9, 21), "test", "Retries on days 1, 9 and 21", _engine.Clock.GetUtcNow()));
        await db.SaveChangesAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        _smtp.Dispose();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Advancing_a_clock_bills_and_dunns_its_customer_in_clock_time_and_touches_no_one_outside_it()
    {
        var (_, price) = await _data.PlanAsync(20m);
        // Outside the clock: due for renewal now, with a card that declines, so any pass that reached it would leave rows.
        var outsider = await _data.CustomerAsync("pm_insufficient_funds_");
        await _data.SubscriptionAsync(outsider, price);
        var outsiderBefore = await RowsOfAsync(outsider.Id);

        // February, so that the renewal (28 days on) and its retry the day after fall within 30 days.
        var start = new DateTimeOffset(2027, 2, 1, 0, 5, 0, TimeSpan.Zero);
        var realNow = _engine.Clock.GetUtcNow();
        var clockId = await _engine.InScopeAsync<TestClockCommands, Guid>(c => c.CreateAsync("Rehearsal", start, Admin, Ct));
        var customerId = await _engine.InScopeAsync<TestClockCommands, Guid>(c => c.AddCustomerAsync(clockId,
            new AddTestCustomer("Clock Customer", "clock.customer@example.test", "USD", price.Id, "pm_insufficient_funds_then_ok_1"), Admin, Ct));

        var target = start.AddDays(30);
        var advance = await _engine.InScopeAsync<TestClockCommands, TestClockAdvance>(c => c.AdvanceAsync(clockId, target, Admin, "Rehearse a month", Ct));

        Assert.Equal(target, advance.FrozenTime);
        Assert.Equal(realNow, _engine.Clock.GetUtcNow());
        await using (var db = _database.NewContext())
        {
            Assert.Equal(target, (await db.TestClocks.AsNoTracking().SingleAsync(c => c.Id == clockId, Ct)).FrozenTime);
            Assert.Equal(clockId, (await db.Customers.AsNoTracking().SingleAsync(c => c.Id == customerId, Ct)).TestClockId);

            // The sign-up's invoice and the renewal a month later in clock time, each declined for insufficient funds once and
            // paid by the dunning retry a day after the failure.
            var invoices = await db.Invoices.AsNoTracking().Where(i => i.CustomerId == customerId).OrderBy(i => i.IssuedAt).ToListAsync(Ct);
            Assert.Equal(2, invoices.Count);
            Assert.All(invoices, i => Assert.Equal(InvoiceStatus.Paid, i.Status));
            Assert.Equal(start, invoices[0].IssuedAt);
            Assert.Equal(start.AddMonths(1), invoices[1].IssuedAt);
            foreach (var invoice in invoices)
            {
                var attempts = await db.PaymentAttempts.AsNoTracking().Where(a => a.InvoiceId == invoice.Id).OrderBy(a => a.AttemptNumber).ToListAsync(Ct);
                Assert.Equal([PaymentAttemptStatus.Failed, PaymentAttemptStatus.Succeeded], attempts.Select(a => a.Status));
                Assert.Equal("insufficient_funds", attempts[0].DeclineCode);
                Assert.InRange(attempts[0].StartedAt, invoice.IssuedAt!.Value, invoice.IssuedAt.Value.AddHours(2));
                Assert.Equal(attempts[0].StartedAt.AddDays(1), attempts[1].StartedAt, TimeSpan.FromHours(12));
                var dunningCase = await db.DunningCases.AsNoTracking().SingleAsync(c => c.InvoiceId == invoice.Id, Ct);
                Assert.Equal(DunningStatus.Recovered, dunningCase.Status);
            }

            // The failure emails and the receipts went out, stamped in clock time.
            var emails = await db.Notifications.AsNoTracking().Where(n => n.CustomerId == customerId).ToListAsync(Ct);
            Assert.Equal(2, emails.Count(n => n.Kind == NotificationKinds.PaymentFailed));
            Assert.Equal(2, emails.Count(n => n.Kind == NotificationKinds.PaymentReceived));
            Assert.All(emails.Where(n => n.Kind is NotificationKinds.PaymentFailed or NotificationKinds.PaymentReceived), n =>
            {
                Assert.Equal(NotificationStatus.Sent, n.Status);
                Assert.InRange(n.SentAt!.Value, start, target);
            });
            Assert.Equal(2, _smtp.Messages.Count(m => m.To.ToString().Contains("clock.customer@example.test", StringComparison.Ordinal)
                && m.Subject!.StartsWith("Action needed", StringComparison.Ordinal)));

            var ledger = await db.LedgerEntries.AsNoTracking().Where(e => invoices.Select(i => i.Id).Contains(e.InvoiceId!.Value)).ToListAsync(Ct);
            Assert.Equal(ledger.Sum(e => e.Debit), ledger.Sum(e => e.Credit));
            Assert.Equal(0m, ledger.Where(e => e.Account == LedgerAccount.Receivable).Sum(e => e.Debit - e.Credit));
        }
        Assert.Equal(outsiderBefore, await RowsOfAsync(outsider.Id));

        // The regular passes, two months on in real time, bill the outsider and leave the clock's customer alone.
        _engine.Clock.Advance(TimeSpan.FromDays(60));
        var clockCustomerBefore = await RowsOfAsync(customerId);
        await _engine.RunBillingAsync();
        await _engine.Get<DunningRetryRunner>().RunDueAsync(Ct);
        await _engine.InScopeAsync<DunningLadder, int>(l => l.RunDueAsync(Ct));
        Assert.Equal(clockCustomerBefore, await RowsOfAsync(customerId));
        Assert.NotEqual(outsiderBefore, await RowsOfAsync(outsider.Id));
    }

    [Fact]
    public async Task With_the_gateway_in_Stripe_mode_a_test_clock_is_refused_with_a_sentence_and_nothing_is_written()
    {
        await using var live = EngineServices.Create(_database, settings: new Dictionary<string, string?>
        {
            ["Gateway:Mode"] = "stripe",
            ["Gateway:Stripe:ApiKey"] = "sk_test_not_used",
        });

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() =>
            live.InScopeAsync<TestClockCommands, Guid>(c => c.CreateAsync("Live", null, Admin, Ct)));

        Assert.Equal(TestClockCommands.SandboxOnly, refused.Message);
        await using var db = _database.NewContext();
        Assert.False(await db.TestClocks.AnyAsync(Ct));
        Assert.False(await db.AuditLog.AnyAsync(a => a.EntityType == "test_clock", Ct));
    }

    /// <summary>How many rows of each kind a customer has, its audit entries and its subscriptions' periods, as one comparable text.</summary>
    private async Task<string> RowsOfAsync(Guid customerId)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("""
            select concat_ws(' | ',
                (select count(*) from invoices where customer_id = $1),
                (select count(*) from payment_attempts a join invoices i on i.id = a.invoice_id where i.customer_id = $1),
                (select count(*) from dunning_cases where customer_id = $1),
                (select count(*) from notifications where customer_id = $1),
                (select count(*) from ledger_entries e join invoices i on i.id = e.invoice_id where i.customer_id = $1),
                (select count(*) from audit_log where entity_id = $1::text
                    or entity_id in (select id::text from invoices where customer_id = $1)
                    or entity_id in (select id::text from dunning_cases where customer_id = $1)
                    or entity_id in (select id::text from subscriptions where customer_id = $1)),
                (select string_agg(current_period_end::text || ' ' || status, ',' order by id) from subscriptions where customer_id = $1))
            """, connection) { Parameters = { new() { Value = customerId } } };
        return (string)(await command.ExecuteScalarAsync(Ct))!;
    }
}
