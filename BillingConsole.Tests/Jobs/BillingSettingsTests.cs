using BillingConsole.Configuration;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Jobs;
using BillingConsole.Persistence;
using BillingConsole.Tests.Infrastructure;
using FluentValidation;
using Hangfire;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BillingConsole.Tests.Jobs;

/// <summary>An admin changes the billing settings: stored, audited and in force at once, the recurring job included.</summary>
public sealed class BillingSettingsTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("ada@example.test", "admin");

    private MigratedDatabase _database = null!;
    private EngineServices _node = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("settings");
        _node = EngineServices.Create(_database, hangfire: true);
        await _node.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        await _database.DisposeAsync();
    }

    private RecurringJobDto BillingCycle()
    {
        using var connection = _node.Get<JobStorage>().GetConnection();
        return connection.GetRecurringJobs([RecurringJobRegistrar.BillingCycle]).Single();
    }

    private static SaveBillingSettings Valid() => new()
    {
        RunSchedule = "30 2 * * 1-5", TimeZone = "Europe/London", InvoicePrefix = "BC-", TaxRatePercent = 20m,
        GatewayMode = GatewayModes.Sandbox, SupportRefundLimit = 250m, Reason = "Bill after the nightly export",
    };

    private Task<BillingSettingsValues> SaveAsync(SaveBillingSettings settings) =>
        _node.InScopeAsync<BillingSettingsCommands, BillingSettingsValues>(commands => commands.SaveAsync(settings, Admin, Ct));

    [Fact]
    public async Task Saved_settings_change_the_recurring_job_in_Hangfire_storage_and_the_invoice_prefix_and_tax_without_a_restart()
    {
        Assert.Equal(("5 0 * * *", "UTC"), (BillingCycle().Cron, BillingCycle().TimeZoneId));

        await SaveAsync(Valid());

        var job = BillingCycle();
        Assert.Equal(("30 2 * * 1-5", "Europe/London"), (job.Cron, job.TimeZoneId));
        var billing = _node.Get<IOptionsMonitor<BillingOptions>>().CurrentValue;
        Assert.Equal(("BC-", 0.2m, 250m), (billing.InvoicePrefix, billing.TaxRate, billing.SupportRefundLimit));
        Assert.StartsWith("BC-", await _node.Get<InvoiceNumbers>().NextAsync(Ct));
        await using (var db = _database.NewContext())
        {
            var audit = await db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "settings.billing_saved", Ct);
            Assert.Equal((Admin.Name, "Bill after the nightly export"), (audit.Actor, audit.Reason));
            Assert.Contains("5 0 * * *", audit.Before);
            Assert.Contains("30 2 * * 1-5", audit.After);
        }

        // Another node, or this one after a restart, starts with the stored settings.
        await using var restarted = EngineServices.Create(_database);
        await restarted.StartAsync();
        Assert.Equal("BC-", restarted.Get<IOptionsMonitor<BillingOptions>>().CurrentValue.InvoicePrefix);
    }

    [Fact]
    public async Task Invalid_settings_are_refused_field_by_field_and_change_nothing()
    {
        var settings = new SaveBillingSettings
        {
            RunSchedule = "61 * * * *", TimeZone = "Mars/Olympus_Mons", InvoicePrefix = "inv", TaxRatePercent = 150m, GatewayMode = GatewayModes.Live, SupportRefundLimit = -1m, Reason = "",
        };

        var refused = await Assert.ThrowsAsync<ValidationException>(() => SaveAsync(settings));

        Assert.Equal(
            [nameof(SaveBillingSettings.GatewayMode), nameof(SaveBillingSettings.InvoicePrefix), nameof(SaveBillingSettings.Reason),
             nameof(SaveBillingSettings.RunSchedule), nameof(SaveBillingSettings.SupportRefundLimit), nameof(SaveBillingSettings.TaxRatePercent),
             nameof(SaveBillingSettings.TimeZone)],
            refused.Errors.Select(e => e.PropertyName).Distinct().Order());
        Assert.Contains(refused.Errors, e => e.PropertyName == nameof(SaveBillingSettings.GatewayMode) && e.ErrorMessage.Contains("Stripe is not configured"));
        Assert.Equal("5 0 * * *", BillingCycle().Cron);
        await using var db = _database.NewContext();
        Assert.Equal(0, await db.Settings.CountAsync(Ct));
        Assert.Equal(0, await db.AuditLog.CountAsync(Ct));
    }
}
