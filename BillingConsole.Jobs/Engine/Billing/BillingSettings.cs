using System.Text.Json;
using BillingConsole.Configuration;
using BillingConsole.Engine.Commands;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace BillingConsole.Engine.Billing;

/// <summary>The gateway modes of the Billing settings page: sandbox charges through the sandbox gateway, live through Stripe.</summary>
public static class GatewayModes
{
    public const string Sandbox = "sandbox";
    public const string Live = "live";
    public static readonly IReadOnlyList<string> All = [Sandbox, Live];

    public static string GatewayNameOf(string mode) => mode == Live ? StripeGateway.GatewayName : SandboxGateway.GatewayName;

    /// <summary>The mode <c>Gateway:Mode</c> stands for until an admin saves one.</summary>
    public static string Configured(GatewayOptions options) => options.Mode == SandboxGateway.GatewayName ? Sandbox : Live;
}

/// <summary>The billing settings an admin changes in the console, stored in the settings table under <see cref="Key"/>.</summary>
/// <param name="TaxRate">A fraction: 0.2 is 20%.</param>
/// <param name="SupportRefundLimit">The most support may refund at once; settings saved before it existed read as the default.</param>
public sealed record BillingSettingsValues(string RunSchedule, string TimeZone, string InvoicePrefix, decimal TaxRate, string GatewayMode,
    decimal SupportRefundLimit = BillingSettingsValues.DefaultSupportRefundLimit)
{
    public const string Key = "billing";
    public const decimal DefaultSupportRefundLimit = 100m;
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}

/// <summary>The billing settings form: nullable so that a missing field reaches the validator and is named there.</summary>
public sealed class SaveBillingSettings
{
    public string? RunSchedule { get; set; }
    public string? TimeZone { get; set; }
    public string? InvoicePrefix { get; set; }
    /// <summary>Percent, as people write it: 20 for 20%.</summary>
    public decimal? TaxRatePercent { get; set; }
    public string? GatewayMode { get; set; }
    public decimal? SupportRefundLimit { get; set; }
    public string? Reason { get; set; }

    public static SaveBillingSettings From(BillingSettingsValues values) => new()
    {
        RunSchedule = values.RunSchedule,
        TimeZone = values.TimeZone,
        InvoicePrefix = values.InvoicePrefix,
        TaxRatePercent = values.TaxRate * 100m,
        GatewayMode = values.GatewayMode,
        SupportRefundLimit = values.SupportRefundLimit,
    };

    public BillingSettingsValues ToValues() =>
        new(RunSchedule!.Trim(), TimeZone!.Trim(), InvoicePrefix!, TaxRatePercent!.Value / 100m, GatewayMode!, SupportRefundLimit!.Value);
}

/// <summary>
/// The stored billing settings laid over appsettings' Billing section: every <c>IOptionsMonitor&lt;BillingOptions&gt;</c>
/// reader (invoice numbers, tax, the run's schedule) sees a change as soon as it is set, without a restart.
/// </summary>
public sealed class StoredBillingSettings : IPostConfigureOptions<BillingOptions>, IOptionsChangeTokenSource<BillingOptions>
{
    private BillingSettingsValues? _values;
    private CancellationTokenSource _changed = new();

    public BillingSettingsValues? Values => _values;

    /// <summary>The gateway mode in force: the one saved on the settings page, else the one <c>Gateway:Mode</c> configures.</summary>
    public string GatewayMode(GatewayOptions configured) => _values?.GatewayMode ?? GatewayModes.Configured(configured);

    public string Name => Options.DefaultName;

    public void Set(BillingSettingsValues? values)
    {
        if (values == _values) return;
        _values = values;
        Interlocked.Exchange(ref _changed, new CancellationTokenSource()).Cancel();
    }

    public void PostConfigure(string? name, BillingOptions options)
    {
        if (_values is not { } values) return;
        options.RunSchedule = values.RunSchedule;
        options.TimeZone = values.TimeZone;
        options.InvoicePrefix = values.InvoicePrefix;
        options.TaxRate = values.TaxRate;
        options.SupportRefundLimit = values.SupportRefundLimit;
    }

    public IChangeToken GetChangeToken() => new CancellationChangeToken(_changed.Token);

    public static async Task<BillingSettingsValues?> LoadAsync(BillingDbContext db, CancellationToken ct)
    {
        var row = await db.Settings.AsNoTracking().FirstOrDefaultAsync(s => s.Key == BillingSettingsValues.Key, ct);
        return row is null ? null : JsonSerializer.Deserialize<BillingSettingsValues>(row.Value, BillingSettingsValues.Json);
    }
}

/// <summary>
/// Loads the stored billing settings before the recurring jobs are registered, then every half minute, so that a change
/// saved on another node reaches this one too (the database is the record; the node that saved applies it at once).
/// </summary>
internal sealed class BillingSettingsRefresher(IServiceScopeFactory scopes, StoredBillingSettings stored, ILogger<BillingSettingsRefresher> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken)) await RefreshAsync(stoppingToken);
    }

    private async Task RefreshAsync(CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            stored.Set(await StoredBillingSettings.LoadAsync(scope.ServiceProvider.GetRequiredService<BillingDbContext>(), ct));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The settings in force stay as they are; the next tick tries again.
            logger.LogWarning(e, "The stored billing settings could not be read");
        }
    }
}

/// <summary>The admin's billing settings: validated, stored, audited with before and after, and applied at once.</summary>
public sealed class BillingSettingsCommands(
    BillingDbContext db,
    AuditTrail audit,
    TimeProvider clock,
    StoredBillingSettings stored,
    IOptionsMonitor<BillingOptions> billing,
    IOptionsMonitor<GatewayOptions> gateway,
    IBackgroundWork background,
    IValidator<SaveBillingSettings> validator)
{
    public BillingSettingsValues Current()
    {
        var options = billing.CurrentValue;
        return new BillingSettingsValues(options.RunSchedule, options.TimeZone, options.InvoicePrefix, options.TaxRate,
            stored.GatewayMode(gateway.CurrentValue), options.SupportRefundLimit);
    }

    public async Task<BillingSettingsValues> SaveAsync(SaveBillingSettings command, Actor actor, CancellationToken ct)
    {
        await validator.ValidateAndThrowAsync(command, ct);
        var before = Current();
        var values = command.ToValues();
        var json = JsonSerializer.Serialize(values, BillingSettingsValues.Json);
        var now = clock.GetUtcNow();
        var row = await db.Settings.FirstOrDefaultAsync(s => s.Key == BillingSettingsValues.Key, ct);
        if (row is null) db.Settings.Add(row = new SettingRecord { Key = BillingSettingsValues.Key });
        row.Value = json;
        row.UpdatedAt = now;
        row.UpdatedBy = actor.Name;
        audit.Record(actor, "settings.billing_saved", "setting", BillingSettingsValues.Key, command.Reason!, before, values);
        await db.SaveChangesAsync(ct);
        stored.Set(values);
        background.UpdateBillingCycleSchedule(billing.CurrentValue.RunSchedule, billing.CurrentValue.TimeZone);
        return values;
    }
}

public static class BillingSettingsRules
{
    public static bool IsCron(string? text) => !string.IsNullOrWhiteSpace(text) && Cronos.CronExpression.TryParse(text.Trim(), out _);

    public static bool IsTimeZone(string? id) => !string.IsNullOrWhiteSpace(id) && BillingEngineExtensions.TryFindTimeZone(id.Trim()) is not null;

    /// <summary>The next few times a schedule fires, for the form to show what the cron means.</summary>
    public static IReadOnlyList<DateTimeOffset> NextRuns(string cron, string timeZone, DateTimeOffset from, int count)
    {
        if (!IsCron(cron) || !IsTimeZone(timeZone)) return [];
        var expression = Cronos.CronExpression.Parse(cron.Trim());
        var zone = BillingEngineExtensions.TryFindTimeZone(timeZone.Trim())!;
        var runs = new List<DateTimeOffset>(count);
        for (var at = from; runs.Count < count && expression.GetNextOccurrence(at, zone) is { } next; at = next) runs.Add(next);
        return runs;
    }
}
