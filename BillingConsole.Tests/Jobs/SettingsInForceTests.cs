using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using BillingConsole.Tests.Engine.Dunning;
using BillingConsole.Tests.Gateways;
using BillingConsole.Tests.Infrastructure;
using Hangfire;
using Hangfire.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Jobs;

/// <summary>
/// The Billing settings page's gateway mode and time zone, and a customer's time zone, change what the engine does without
/// a restart: which gateway charges, where billing periods fall, at which hours retries are planned.
/// </summary>
public sealed class SettingsInForceTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("ada@example.test", "admin");

    private readonly StripeStandIn _stripe = new();
    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("settings_in_force");
        _engine = EngineServices.Create(_database, settings: new Dictionary<string, string?>
        {
            // Starts in the sandbox with Stripe configured, so the page may switch to live.
            ["Gateway:Mode"] = "sandbox",
            ["Gateway:ChargeTimeoutMs"] = "4000",
            ["Gateway:Stripe:ApiBase"] = _stripe.Url,
            ["Gateway:Stripe:ApiKey"] = StripeStandIn.ApiKey,
        }, services: services => services.AddSingleton<IRecurringJobManager, UnscheduledRecurringJobs>());
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
        _stripe.Dispose();
    }

    private async Task SaveSettingsAsync(Action<SaveBillingSettings> change)
    {
        await using var scope = _engine.Services.CreateAsyncScope();
        var commands = scope.ServiceProvider.GetRequiredService<BillingSettingsCommands>();
        var form = SaveBillingSettings.From(commands.Current());
        form.Reason = "Settings change under test";
        change(form);
        await commands.SaveAsync(form, Admin, Ct);
    }

    private Task<ChargeResult> ChargeAsync(Guid invoiceId) =>
        _engine.InScopeAsync<PaymentProcessor, ChargeResult>(p => p.ChargeAsync(invoiceId, PaymentTrigger.Manual, Actor.System, CancellationToken.None));

    private async Task<PaymentAttempt> FirstAttemptAsync(Guid invoiceId)
    {
        await using var db = _database.NewContext();
        return await db.PaymentAttempts.AsNoTracking().Where(a => a.InvoiceId == invoiceId).OrderBy(a => a.AttemptNumber).FirstAsync(Ct);
    }

    [Fact]
    public async Task The_gateway_mode_switches_charging_between_sandbox_and_Stripe_and_an_earlier_attempt_is_looked_up_where_it_was_made()
    {
        // In the sandbox: a charge that outlives its deadline is unknown, though the sandbox did charge it.
        var sandboxInvoice = (await _engine.OpenInvoiceAsync(_data, "pm_timeout_ok_")).InvoiceId;
        Assert.Equal(ChargeStatus.Unknown, (await ChargeAsync(sandboxInvoice)).Status);
        Assert.Equal(SandboxGateway.GatewayName, (await FirstAttemptAsync(sandboxInvoice)).Gateway);

        await SaveSettingsAsync(form => form.GatewayMode = GatewayModes.Live);

        var stripeInvoice = (await _engine.OpenInvoiceAsync(_data, "cus_Live/pm_card_")).InvoiceId;
        _stripe.ChargeAnswers("pi_Live");
        Assert.Equal(ChargeStatus.Succeeded, (await ChargeAsync(stripeInvoice)).Status);
        Assert.Equal((StripeGateway.GatewayName, "pi_Live"), ((await FirstAttemptAsync(stripeInvoice)).Gateway, (await FirstAttemptAsync(stripeInvoice)).GatewayReference));
        Assert.Single(_stripe.Requests(StripeStandIn.IntentsPath));

        // The unknown sandbox attempt is looked up in the sandbox, which charged it, never searched for or sent again at Stripe.
        var reconciled = await ChargeAsync(sandboxInvoice);
        Assert.Equal((ChargeStatus.Succeeded, true), (reconciled.Status, reconciled.Reconciled));
        Assert.Empty(_stripe.Requests(StripeStandIn.SearchPath));
        Assert.Single(_stripe.Requests(StripeStandIn.IntentsPath));
        Assert.Equal(1, _engine.Gateway.SuccessfulChargeCount);

        await SaveSettingsAsync(form => form.GatewayMode = GatewayModes.Sandbox);

        var backInSandbox = (await _engine.OpenInvoiceAsync(_data, "pm_ok_")).InvoiceId;
        Assert.Equal(ChargeStatus.Succeeded, (await ChargeAsync(backInSandbox)).Status);
        Assert.Equal(SandboxGateway.GatewayName, (await FirstAttemptAsync(backInSandbox)).Gateway);
        Assert.Single(_stripe.Requests(StripeStandIn.IntentsPath));
        await using var db = _database.NewContext();
        Assert.Equal(3, await db.Invoices.CountAsync(i => i.Status == InvoiceStatus.Paid, Ct));
    }

    [Fact]
    public async Task A_changed_billing_time_zone_governs_the_next_runs_periods_from_the_stored_period_end()
    {
        var (_, price) = await _data.PlanAsync();
        var subscription = await _data.SubscriptionAsync(await _data.CustomerAsync(), price);
        // Ended 2027-03-14 00:05 UTC, anchored on the 14th: in UTC the renewal runs to 14 April 00:05 UTC.
        Assert.Equal((new DateTimeOffset(2027, 3, 14, 0, 5, 0, TimeSpan.Zero), 14), (subscription.CurrentPeriodEnd, subscription.BillingAnchorDay));

        // The node has invoiced in UTC before the change.
        await _engine.OpenInvoiceAsync(_data, "pm_ok_");

        await SaveSettingsAsync(form => form.TimeZone = "America/New_York");
        await _engine.RunBillingAsync();

        // In New York the stored end is 13 March 19:05 EST: a stub to 14 March 19:05 EDT, then a whole period to 14 April 19:05 EDT.
        await using var db = _database.NewContext();
        var renewed = await db.Subscriptions.AsNoTracking().SingleAsync(s => s.Id == subscription.Id, Ct);
        Assert.Equal(new DateTimeOffset(2027, 4, 14, 23, 5, 0, TimeSpan.Zero), renewed.CurrentPeriodEnd);
        Assert.Equal(2, await db.Invoices.CountAsync(i => i.SubscriptionId == subscription.Id, Ct));
    }

    [Fact]
    public async Task The_same_failure_is_retried_at_the_same_local_hour_for_customers_in_different_time_zones()
    {
        // A history in which only retries at 03:00 local time paid, and statistical retries few enough for the hour to matter.
        await RecoveryHistoryTests.WriteHistoryAsync(_database, _data, Ct);
        await _engine.Get<RecoveryHistory>().RefreshAsync(Ct);
        await using (var db = _database.NewContext())
        {
            var policy = DunningPolicySettings.Default with { Mode = RetryMode.Statistical, AttemptBudget = 3 };
            db.DunningPolicies.Add(new DunningPolicyVersion(1, policy, "test", "Three statistical retries", _engine.Clock.GetUtcNow()));
            await db.SaveChangesAsync(Ct);
        }

        var localHours = new List<int>();
        var instants = new List<DateTimeOffset>();
        foreach (var zone in new[] { "Europe/Berlin", "America/New_York" })
        {
            var (invoiceId, customerId) = await _engine.OpenInvoiceAsync(_data, "pm_insufficient_funds_");
            await _engine.InScopeAsync<CustomerCommands, CustomerView>(commands =>
                commands.UpdateAsync(customerId, new UpdateCustomer(null, null, null, null, null, TimeZone: zone), Admin, "Customer moved", Ct));
            Assert.Equal(ChargeStatus.Failed, (await ChargeAsync(invoiceId)).Status);

            await using var db = _database.NewContext();
            var next = (await db.DunningCases.AsNoTracking().SingleAsync(c => c.InvoiceId == invoiceId, Ct)).NextAttemptAt!.Value;
            instants.Add(next);
            localHours.Add(TimeZoneInfo.ConvertTime(next, TimeZoneInfo.FindSystemTimeZoneById(zone)).Hour);
        }

        Assert.Equal(new[] { 3, 3 }, localHours);
        Assert.NotEqual(instants[0], instants[1]);
    }

    [Fact]
    public async Task An_unknown_customer_time_zone_is_refused_and_changes_nothing()
    {
        var customer = await _data.CustomerAsync();

        var refused = await Assert.ThrowsAsync<FluentValidation.ValidationException>(() => _engine.InScopeAsync<CustomerCommands, CustomerView>(commands =>
            commands.UpdateAsync(customer.Id, new UpdateCustomer("Renamed", null, null, null, null, TimeZone: "Europe/Atlantis"), Admin, "Customer moved", Ct)));

        Assert.Equal(nameof(UpdateCustomer.TimeZone), Assert.Single(refused.Errors).PropertyName);
        await using var db = _database.NewContext();
        var stored = await db.Customers.AsNoTracking().SingleAsync(c => c.Id == customer.Id, Ct);
        Assert.Equal((customer.Name, (string?)null), (stored.Name, stored.TimeZone));
    }

    /// <summary>The run's schedule lives in Hangfire's storage (see BillingSettingsTests); these tests run billing themselves.</summary>
    private sealed class UnscheduledRecurringJobs : IRecurringJobManager
    {
        public void AddOrUpdate(string recurringJobId, Job job, string cronExpression, RecurringJobOptions options) { }
        public void Trigger(string recurringJobId) { }
        public void RemoveIfExists(string recurringJobId) { }
    }
}
