using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Events;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Events;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.Payments;
using BillingConsole.Engine.TestClocks;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BillingConsole.Tests.Engine.TestClocks;

/// <summary>
/// What keeps a test clock's customers apart beyond its advance: deleting a clock takes every row of its customers and no
/// one else's, a real customer's shape is copied onto a clock through the same sign-up, and the jobs that run outside any
/// clock (card-expiry notices, payment reconciliation, outgoing events) leave test customers alone.
/// </summary>
public sealed class TestClockHousekeepingTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("admin@example.test", "admin");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("test_clock_housekeeping");
        _engine = EngineServices.Create(_database);
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
        await using var db = _database.NewContext();
        db.DunningPolicies.Add(new DunningPolicyVersion(1, Dunning.Dunning.Fixed(1, 9, 21), "test", "Retries on days 1, 9 and 21", _engine.Clock.GetUtcNow()));
        // An endpoint that wants every event type, so that both kinds of customer write events.
        db.EventEndpoints.Add(new EventEndpoint(new Uri("https://receiver.example.com/hooks"), EventTypes.All, "sealed", "test", "test", _engine.Clock.GetUtcNow()));
        await db.SaveChangesAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Deleting_a_clock_removes_every_row_of_its_customers_and_leaves_everyone_else_as_it_was()
    {
        var (_, price) = await _data.PlanAsync(20m);
        var outsider = await _data.CustomerAsync("pm_insufficient_funds_");
        await _data.SubscriptionAsync(outsider, price);
        await _engine.RunBillingAsync();
        var clockId = await NewClockAsync(_engine.Clock.GetUtcNow().AddDays(-40));
        var onClock = new[]
        {
            await AddCustomerAsync(clockId, price.Id, "pm_insufficient_funds_then_ok_"),
            await AddCustomerAsync(clockId, price.Id, "pm_insufficient_funds_"),
        };
        await _engine.InScopeAsync<TestClockCommands, TestClockAdvance>(c => c.AdvanceAsync(clockId, _engine.Clock.GetUtcNow().AddDays(-5), Admin, "Rehearse", Ct));
        var tables = await TablesWithCustomerIdAsync();
        var clockRowsBefore = await RowsPerTableAsync(tables, onClock);
        var outsiderBefore = await RowsPerTableAsync(tables, [outsider.Id]);
        // The rehearsal left rows of many kinds to delete, on and off the clock.
        foreach (var table in new[] { "invoices", "payment_attempts", "ledger_entries", "dunning_cases", "notifications", "events", "subscriptions" })
        {
            Assert.True(clockRowsBefore[table] > 0, $"the clock's customers have no {table}");
            Assert.True(outsiderBefore[table] > 0, $"the outsider has no {table}");
        }

        var deleted = await _engine.InScopeAsync<TestClockDeletion, TestClockDeleted>(d => d.DeleteAsync(clockId, Admin, "Rehearsal over", Ct));

        Assert.Equal(2, deleted.Customers);
        Assert.All(await RowsPerTableAsync(tables, onClock), row => Assert.True(row.Value == 0, $"{row.Value} rows left in {row.Key}"));
        Assert.Equal(outsiderBefore, await RowsPerTableAsync(tables, [outsider.Id]));
        await using var db = _database.NewContext();
        Assert.False(await db.TestClocks.AnyAsync(Ct));
        Assert.False(await db.BillingRuns.AnyAsync(r => r.TestClockId != null, Ct));
        var ledger = await db.LedgerEntries.AsNoTracking().GroupBy(e => e.TransactionId).Select(t => t.Sum(e => e.Debit) - t.Sum(e => e.Credit)).ToListAsync(Ct);
        Assert.All(ledger, difference => Assert.Equal(0m, difference));
        var audit = Assert.Single(await db.AuditLog.AsNoTracking().Where(a => a.Action == "test_clock.deleted").ToListAsync(Ct));
        Assert.Equal(clockId.ToString(), audit.EntityId);
        Assert.StartsWith("Rehearsal over", audit.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_a_clock_without_a_reason_is_refused_and_deletes_nothing()
    {
        var (_, price) = await _data.PlanAsync(20m);
        var clockId = await NewClockAsync(_engine.Clock.GetUtcNow());
        var customerId = await AddCustomerAsync(clockId, price.Id, "pm_ok_");

        await Assert.ThrowsAsync<DomainRuleException>(() =>
            _engine.InScopeAsync<TestClockDeletion, TestClockDeleted>(d => d.DeleteAsync(clockId, Admin, " ", Ct)));

        await using var db = _database.NewContext();
        Assert.True(await db.TestClocks.AnyAsync(c => c.Id == clockId, Ct));
        Assert.True(await db.Invoices.AnyAsync(i => i.CustomerId == customerId, Ct));
    }

    [Fact]
    public async Task A_real_customers_shape_is_copied_onto_a_clock_with_the_card_outcome_the_admin_chose()
    {
        var (_, price) = await _data.PlanAsync(15m, "EUR");
        var real = await _data.CustomerAsync(currency: "EUR");
        await _data.SubscriptionAsync(real, price, quantity: 3, endedAgo: TimeSpan.FromDays(-10));
        var clockId = await NewClockAsync(_engine.Clock.GetUtcNow());

        var copyId = await _engine.InScopeAsync<TestClockCustomerCopy, Guid>(c => c.CopyAsync(clockId, real.Id, "pm_do_not_honor_", Admin, Ct));

        await using var db = _database.NewContext();
        var copy = await db.Customers.AsNoTracking().Include(c => c.PaymentMethods).SingleAsync(c => c.Id == copyId, Ct);
        Assert.Equal(clockId, copy.TestClockId);
        Assert.Equal("EUR", copy.Currency);
        Assert.Equal($"Copy of {real.Name}", copy.Name);
        Assert.NotEqual(real.Email, copy.Email);
        Assert.StartsWith("pm_do_not_honor_", Assert.Single(copy.PaymentMethods).Token, StringComparison.Ordinal);
        var subscription = await db.Subscriptions.AsNoTracking().SingleAsync(s => s.CustomerId == copyId, Ct);
        Assert.Equal((price.Id, 3), (subscription.PriceId, subscription.Quantity));
        // Collected an hour after the sign-up, in the clock's time, with the chosen card: declined.
        await _engine.InScopeAsync<TestClockCommands, TestClockAdvance>(c => c.AdvanceAsync(clockId, _engine.Clock.GetUtcNow().AddHours(2), Admin, "Collect", Ct));
        var attempt = await db.PaymentAttempts.AsNoTracking().SingleAsync(a => a.CustomerId == copyId, Ct);
        Assert.Equal(PaymentAttemptStatus.Failed, attempt.Status);

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() =>
            _engine.InScopeAsync<TestClockCustomerCopy, Guid>(c => c.CopyAsync(clockId, copyId, "pm_ok_", Admin, Ct)));
        Assert.Equal("That customer is on a test clock already: copy a real customer.", refused.Message);
    }

    [Fact]
    public async Task Card_expiry_notices_outside_a_clock_skip_test_customers_and_a_clocks_own_pass_writes_theirs()
    {
        var (_, price) = await _data.PlanAsync(20m);
        var real = await _data.CustomerAsync();
        var clockStart = new DateTimeOffset(2027, 2, 1, 0, 0, 0, TimeSpan.Zero);
        var clockId = await NewClockAsync(clockStart);
        var testCustomer = await AddCustomerAsync(clockId, price.Id, "pm_ok_");
        // Both cards expire in December 2030 (the test data's cards, and a test customer's three years after its clock's year).
        await ExpiryNoticesAsync(2030, 12);
        Assert.Equal([real.Id], await CardExpiringNoticesAsync());

        using (EngineClock.Enter(clockId, clockStart)) await ExpiryNoticesAsync(2030, 12);
        Assert.Equal(new[] { real.Id, testCustomer }.Order(), (await CardExpiringNoticesAsync()).Order());
    }

    [Fact]
    public async Task Payment_reconciliation_outside_a_clock_leaves_a_test_customers_unknown_charge_to_its_clock()
    {
        var (_, price) = await _data.PlanAsync(20m);
        var clockStart = _engine.Clock.GetUtcNow().AddDays(-7);
        var clockId = await NewClockAsync(clockStart);
        var customerId = await AddCustomerAsync(clockId, price.Id, "pm_ok_");
        // Auto-collection charges the sign-up invoice an hour on; the gateway times out, leaving the attempt unknown.
        _engine.Gateway.FailNextCalls(10, SandboxOutage.Timeouts);
        await _engine.InScopeAsync<TestClockCommands, TestClockAdvance>(c => c.AdvanceAsync(clockId, clockStart.AddHours(2), Admin, "Collect", Ct));
        // A real customer's charge, left unknown the same way an hour before the pass: the pass outside the clock settles this one only.
        var (realInvoice, realCustomer) = await _engine.OpenInvoiceAsync(_data, "pm_ok_");
        await _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(realInvoice, PaymentTrigger.Manual, Actor.System, Ct));
        _engine.Gateway.FailNextCalls(0, SandboxOutage.None);
        _engine.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(PaymentAttemptStatus.Unknown, (await AttemptsOfAsync(customerId)).Single());
        Assert.Equal(PaymentAttemptStatus.Unknown, (await AttemptsOfAsync(realCustomer)).Single());

        var outside = await _engine.Get<PaymentReconciler>().RunAsync(Ct);

        Assert.Equal(new ReconciliationSummary(1, 0, 0, 0), outside);
        Assert.Equal(PaymentAttemptStatus.Succeeded, (await AttemptsOfAsync(realCustomer)).Single());
        Assert.Equal(PaymentAttemptStatus.Unknown, (await AttemptsOfAsync(customerId)).Single());
        ReconciliationSummary onClock;
        using (EngineClock.Enter(clockId, clockStart.AddDays(1))) onClock = await _engine.Get<PaymentReconciler>().RunAsync(Ct);
        Assert.Equal(1, onClock.Paid);
        Assert.Equal(PaymentAttemptStatus.Succeeded, (await AttemptsOfAsync(customerId)).Single());
    }

    [Fact]
    public async Task A_test_customers_events_are_written_but_never_fanned_out_to_the_endpoints()
    {
        var (_, price) = await _data.PlanAsync(20m);
        var real = await _data.CustomerAsync();
        await _data.SubscriptionAsync(real, price);
        await _engine.RunBillingAsync();
        var clockId = await NewClockAsync(_engine.Clock.GetUtcNow());
        var testCustomer = await AddCustomerAsync(clockId, price.Id, "pm_ok_");

        await using var db = _database.NewContext();
        var deliveries = await db.Events.AsNoTracking()
            .Select(e => new { e.CustomerId, Deliveries = db.EventDeliveries.Count(d => d.EventId == e.Id) }).ToListAsync(Ct);
        Assert.Contains(deliveries, e => e.CustomerId == testCustomer);
        Assert.All(deliveries.Where(e => e.CustomerId == testCustomer), e => Assert.Equal(0, e.Deliveries));
        Assert.Contains(deliveries, e => e.CustomerId == real.Id);
        Assert.All(deliveries.Where(e => e.CustomerId == real.Id), e => Assert.Equal(1, e.Deliveries));
    }

    private Task<Guid> NewClockAsync(DateTimeOffset start) =>
        _engine.InScopeAsync<TestClockCommands, Guid>(c => c.CreateAsync("Rehearsal", start, Admin, Ct));

    private Task<Guid> AddCustomerAsync(Guid clockId, Guid priceId, string cardToken) =>
        _engine.InScopeAsync<TestClockCommands, Guid>(c => c.AddCustomerAsync(clockId,
            new AddTestCustomer("Clock Customer", $"{Guid.NewGuid():N}@example.test", "USD", priceId, cardToken), Admin, Ct));

    private Task ExpiryNoticesAsync(int year, int month) =>
        _engine.InScopeAsync<BillingDbContext>(db => NotificationOutbox.CardsExpiringAsync(db, year, month, _engine.Clock.GetUtcNow(), Ct));

    private async Task<List<Guid>> CardExpiringNoticesAsync()
    {
        await using var db = _database.NewContext();
        return await db.Notifications.AsNoTracking().Where(n => n.Kind == NotificationKinds.CardExpiring).Select(n => n.CustomerId).ToListAsync(Ct);
    }

    private async Task<List<PaymentAttemptStatus>> AttemptsOfAsync(Guid customerId)
    {
        await using var db = _database.NewContext();
        return await db.PaymentAttempts.AsNoTracking().Where(a => a.CustomerId == customerId).Select(a => a.Status).ToListAsync(Ct);
    }

    private async Task<List<string>> TablesWithCustomerIdAsync()
    {
        await using var db = _database.NewContext();
        return await db.Database.SqlQuery<string>($"""
            select table_name::text as "Value" from information_schema.columns
            where table_schema = 'public' and column_name = 'customer_id' order by table_name
            """).ToListAsync(Ct);
    }

    /// <summary>How many rows of each table with a customer_id column belong to these customers (the customers table too).</summary>
    private async Task<Dictionary<string, long>> RowsPerTableAsync(IEnumerable<string> tables, Guid[] customerIds)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync(Ct);
        var rows = new Dictionary<string, long>();
        foreach (var (table, column) in tables.Select(t => (t, "customer_id")).Append(("customers", "id")))
        {
            await using var command = new NpgsqlCommand($"select count(*) from {table} where {column} = any($1)", connection) { Parameters = { new() { Value = customerIds } } };
            rows[table] = (long)(await command.ExecuteScalarAsync(Ct))!;
        }
        return rows;
    }
}
