using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.TestClocks;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.TestClocks;

/// <param name="CardToken">A sandbox card token: its prefix chooses the outcome of every charge (see <see cref="SandboxGateway"/>).</param>
/// <param name="Quantity">Units of the price the subscription takes.</param>
public sealed record AddTestCustomer(string? Name, string? Email, string? Currency, Guid? PriceId, string? CardToken, int Quantity = 1);

/// <summary>What an advance did: the steps it took (one per due instant) and where the clock stands.</summary>
public sealed record TestClockAdvance(int Steps, DateTimeOffset FrozenTime);

/// <summary>
/// Test clocks: an admin makes one, puts test customers on it and advances it. An advance moves the clock from due instant
/// to due instant (renewals, retries, ladder days, collections) up to the target, and at each runs the engine's own passes
/// (billing run, auto-collection, escalation ladder, dunning retries, email delivery) for the clock's customers as of that
/// instant, through <see cref="EngineClock"/>. Only with the sandbox gateway: a test customer is never charged for real.
/// </summary>
public sealed class TestClockCommands(
    BillingDbContext db,
    IServiceScopeFactory scopes,
    GatewayRouter gateway,
    EnginePasses passes,
    AuditTrail audit,
    TimeProvider clock)
{
    public const string SandboxOnly =
        "Test clocks run only with the sandbox gateway: the gateway mode is Stripe, which would charge real cards. Switch to sandbox on the Billing settings page.";

    public async Task<Guid> CreateAsync(string? name, DateTimeOffset? startTime, Actor actor, CancellationToken ct)
    {
        EnsureSandbox();
        var testClock = new TestClock(name ?? string.Empty, startTime ?? clock.GetUtcNow(), actor.Name, clock.GetUtcNow());
        db.TestClocks.Add(testClock);
        audit.Record(actor, "test_clock.created", "test_clock", testClock.Id, $"Test clock '{testClock.Name}' created at {testClock.FrozenTime:yyyy-MM-dd HH:mm} UTC.");
        await db.SaveChangesAsync(ct);
        return testClock.Id;
    }

    /// <summary>
    /// A test customer on the clock with a sandbox card and a subscription to <see cref="AddTestCustomer.PriceId"/> starting at
    /// the clock's time, made through the same commands as a real one (their validation, first invoice, audit), in one
    /// transaction: input one of them refuses leaves nothing behind.
    /// </summary>
    public async Task<Guid> AddCustomerAsync(Guid clockId, AddTestCustomer command, Actor actor, CancellationToken ct)
    {
        EnsureSandbox();
        if (string.IsNullOrWhiteSpace(command.CardToken) || !SandboxGateway.IsCardTokenPrefix(command.CardToken))
            throw new DomainRuleException(SandboxGateway.CardTokenHint);
        var testClock = await FindAsync(clockId, ct);
        var reason = $"Test customer added on test clock '{testClock.Name}'.";
        using (EngineClock.Enter(testClock.Id, testClock.FrozenTime))
        {
            Guid customerId;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var scopeDb = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
                await using var transaction = await scopeDb.Database.BeginTransactionAsync(ct);
                var customers = scope.ServiceProvider.GetRequiredService<CustomerCommands>();
                customerId = (await customers.CreateAsync(new CreateCustomer(command.Name, command.Email, command.Currency, null, null), actor, reason, ct)).Id;
                await customers.AttachPaymentMethodAsync(customerId,
                    new AttachPaymentMethod(SandboxGateway.GatewayName, $"{command.CardToken.TrimEnd('_')}_{SandboxGateway.NewTokenTail()}", "visa", "4242", 12, testClock.FrozenTime.Year + 3), actor, reason, ct);
                await scope.ServiceProvider.GetRequiredService<SubscriptionCommands>()
                    .CreateAsync(new CreateSubscription(customerId, command.PriceId, command.Quantity, 0), actor, reason, ct);
                await transaction.CommitAsync(ct);
            }
            // Whatever the sign-up made due at once is done now, in the clock's time.
            await passes.RunAsync(EnginePass.All, ct);
            return customerId;
        }
    }

    /// <summary>Advances the clock to <paramref name="target"/>, running the engine at every due instant on the way.</summary>
    public async Task<TestClockAdvance> AdvanceAsync(Guid clockId, DateTimeOffset target, Actor actor, string reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new DomainRuleException("Give a reason: it goes in the audit log.");
        EnsureSandbox();
        var testClock = await FindAsync(clockId, ct);
        if (target <= testClock.FrozenTime)
            throw new DomainRuleException($"Advance to a time after the clock's: it is at {testClock.FrozenTime:yyyy-MM-dd HH:mm} UTC.");
        var from = testClock.FrozenTime;
        var now = from;
        var steps = 0;
        while (true)
        {
            using (EngineClock.Enter(clockId, now)) await passes.RunAsync(EnginePass.All, ct);
            if (now >= target) break;
            // An email tried again after a failure goes out on the next step; its back-off alone never makes one.
            var next = (await passes.NextDueAsync(clockId, now, ct)).Earliest(EnginePass.All & ~EnginePass.Emails);
            now = next is { } due && due < target ? due : target;
            testClock.MoveTo(now);
            await db.SaveChangesAsync(ct);
            steps++;
        }
        audit.Record(actor, "test_clock.advanced", "test_clock", clockId,
            $"{reason.Trim()} (advanced from {from:yyyy-MM-dd HH:mm} to {target:yyyy-MM-dd HH:mm} UTC in {steps} steps)");
        await db.SaveChangesAsync(ct);
        return new TestClockAdvance(steps, now);
    }

    private void EnsureSandbox()
    {
        if (gateway.Name != SandboxGateway.GatewayName) throw new DomainRuleException(SandboxOnly);
    }

    private async Task<TestClock> FindAsync(Guid clockId, CancellationToken ct) =>
        await db.TestClocks.SingleOrDefaultAsync(c => c.Id == clockId, ct) ?? throw new DomainRuleException("There is no such test clock.");
}
