using BillingConsole.Configuration;
using BillingConsole.Engine;
using BillingConsole.Engine.Accounting;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Changes;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Dunning.Simulation;
using BillingConsole.Engine.Events;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.Payments;
using BillingConsole.Engine.PayPage;
using BillingConsole.Engine.Telemetry;
using BillingConsole.Engine.TestClocks;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using BillingConsole.Persistence.Availability;
using BillingConsole.Persistence.Idempotency;
using BillingConsole.ReadModels;
using FluentValidation;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace BillingConsole;

public static class BillingEngineExtensions
{
    /// <summary>The billing engine: configuration, PostgreSQL, Redis, and the services that move money.</summary>
    public static IHostApplicationBuilder AddBillingEngine(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var connectionString = builder.Configuration.GetConnectionString("Billing");
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new StartupException("The connection string 'ConnectionStrings:Billing' is missing: set it in appsettings.json or the environment variable ConnectionStrings__Billing.");
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new StartupException($"The connection string 'ConnectionStrings:Billing' is not valid: {e.Message}", e);
        }

        services.AddOptions<BillingOptions>().BindConfiguration(BillingOptions.Section).ValidateDataAnnotations()
            .Validate(o => TryFindTimeZone(o.TimeZone) is not null, "Billing:TimeZone is not a known IANA time zone (e.g. 'UTC', 'Europe/London').")
            .Validate(o => Cronos.CronExpression.TryParse(o.RunSchedule, out _), "Billing:RunSchedule is not a valid cron expression (e.g. '5 0 * * *').")
            .ValidateOnStart();
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Mode != StripeGateway.GatewayName || !string.IsNullOrWhiteSpace(o.Stripe.ApiKey),
                "Gateway:Stripe:ApiKey is missing: set the environment variable Gateway__Stripe__ApiKey to the Stripe secret key.")
            .Validate(o => o.Mode != StripeGateway.GatewayName || Uri.TryCreate(o.Stripe.ApiBase, UriKind.Absolute, out _),
                "Gateway:Stripe:ApiBase is not an absolute URL (e.g. 'https://api.stripe.com').")
            .ValidateOnStart();
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DatabaseMonitorOptions>().BindConfiguration(DatabaseMonitorOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ListOptions>().BindConfiguration(ListOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EventsOptions>().BindConfiguration(EventsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PayPageOptions>().BindConfiguration(PayPageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EmailOptions>().BindConfiguration(EmailOptions.Section).ValidateDataAnnotations()
            .Validate(o => MimeKit.MailboxAddress.TryParse(o.From, out _), "Email:From is not an email address (e.g. 'Acme Billing <billing@acme.example>').")
            .Validate(o => string.IsNullOrWhiteSpace(o.ReplyTo) || MimeKit.MailboxAddress.TryParse(o.ReplyTo, out _), "Email:ReplyTo is not an email address.")
            .Validate(o => string.IsNullOrEmpty(o.Password) || !string.IsNullOrEmpty(o.User), "Email:Password is set but Email:User is not.")
            .ValidateOnStart();

        services.AddEngineClock();
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());
        // Losing the database makes the node read-only (DatabaseMonitor); the guard refuses EF work meanwhile.
        services.AddSingleton<ReadOnlyState>();
        services.AddSingleton<ReadOnlyWriteGuard>();
        services.AddSingleton<DatabaseMonitor>();
        services.AddHostedService(provider => provider.GetRequiredService<DatabaseMonitor>());
        // Committed changes reach open pages, on this node and through Redis on the others (ChangeCapture, per scope).
        services.AddSingleton<ChangeFeed>();
        services.AddHostedService(provider => provider.GetRequiredService<ChangeFeed>());
        services.AddScoped<ChangeCapture>();
        services.AddDbContext<BillingDbContext>((provider, options) =>
            BillingDbContextOptions.Configure(options, provider.GetRequiredService<NpgsqlDataSource>())
                .AddInterceptors(provider.GetRequiredService<ReadOnlyWriteGuard>(), provider.GetRequiredService<ChangeCapture>()));

        // Redis is the fast path and the live-update bus, never the only record: abortConnect=false lets the
        // product start and keep working while Redis is away, reconnecting by itself.
        services.AddSingleton<IConnectionMultiplexer>(provider =>
        {
            var options = ConfigurationOptions.Parse(provider.GetRequiredService<IOptions<RedisOptions>>().Value.Configuration);
            options.AbortOnConnectFail = false;
            options.ConnectTimeout = 2000;
            options.SyncTimeout = 2000;
            return ConnectionMultiplexer.Connect(options);
        });

        services.AddSingleton<DatabaseStartup>();
        services.AddSingleton<InvoiceNumbers>();
        // Per scope (a command, a billing chunk, a request), in the billing time zone in force then: a zone saved on the
        // Billing settings page governs the periods computed from then on, on every node once its settings are refreshed.
        services.AddScoped(provider => new BillingCalendar(
            TryFindTimeZone(provider.GetRequiredService<IOptionsMonitor<BillingOptions>>().CurrentValue.TimeZone) ?? TimeZoneInfo.Utc));
        services.AddScoped<InvoiceGenerator>();
        services.AddScoped<Proration>();
        services.AddScoped<AuditTrail>();
        services.AddScoped<InvoiceIssuer>();
        services.AddScoped<IdempotencyStore>();
        services.AddSingleton<ApiKeyCache>();
        services.AddScoped<ApiKeys>();
        services.AddSingleton<ApiKeyVerifier>();
        services.AddScoped<CustomerCommands>();
        services.AddSingleton<ReadContexts>();
        services.AddSingleton<CustomerInvoices>();
        services.AddScoped<SubscriptionCommands>();
        services.AddScoped<CatalogCommands>();
        services.AddScoped<CouponCommands>();
        services.AddScoped<PriceMigrations>();
        services.AddCommandValidators();
        services.AddPaymentGateway(builder.Configuration);
        // The gateway in force (the router) as the processor calls it: within the charge deadline, with bounded retries.
        services.AddMetrics();
        services.AddSingleton<EngineTelemetry>();
        services.AddSingleton<DeadlineGateway>();
        services.AddSingleton<GatewayCircuitBreaker>();
        services.AddScoped<InvoiceChargeLock>();
        services.AddSingleton<ChargeSender>();
        services.AddScoped<PaymentEventsNotifier>();
        services.AddScoped<BatchCharger>();
        services.AddScoped<PaymentProcessor>();
        services.AddSingleton<PaymentReconciler>();
        services.AddSingleton<AutoCollector>();
        services.AddSharedKeyRing(builder.Configuration);
        services.AddSingleton<PayLinks>();
        services.AddScoped<CardUpdates>();
        services.AddScoped<CustomerPayPage>();
        services.AddScoped<StripeCards>();
        services.AddSingleton(new RetryScheduler());
        services.AddSingleton<RecoveryHistory>();
        services.AddScoped<SetBasedSave>();
        services.AddScoped<DunningService>();
        services.AddScoped<IPaymentEvents>(provider => provider.GetRequiredService<DunningService>());
        services.AddSingleton<DunningRetryRunner>();
        services.AddScoped<DunningLadder>();
        services.AddSingleton<SmtpMailer>();
        services.AddScoped<NotificationTemplateCommands>();
        services.AddScoped<NotificationContent>();
        services.AddScoped<NotificationDelivery>();
        services.AddScoped<NotificationCommands>();
        services.AddSingleton<EventPoster>();
        services.AddSingleton<EndpointSecrets>();
        services.AddSingleton<EventSender>();
        services.AddScoped<EventBodies>();
        services.AddScoped<EventEndpointCommands>();
        services.AddScoped<EventEndpointQueries>();
        services.AddScoped<DunningCommands>();
        services.AddScoped<InvoiceCommands>();
        services.AddScoped<RefundCommands>();
        services.AddScoped<CreditNoteCommands>();
        services.AddScoped<CustomerBalanceCommands>();
        services.AddScoped<OneOffInvoiceCommands>();
        services.AddScoped<DisputeCommands>();
        services.AddScoped<DunningPolicyCommands>();
        services.AddScoped<TaxRuleCommands>();
        services.AddScoped<CustomerTaxes>();
        services.AddScoped<DunningPolicyImpactPreviewer>();
        services.AddSingleton<DunningSimulator>();
        services.AddSingleton<DunningWhatIf>();
        services.AddScoped<BulkRetryService>();
        services.AddScoped<EnginePasses>();
        services.AddScoped<TestClockCommands>();
        services.AddScoped<TestClockDeletion>();
        services.AddScoped<TestClockCustomerCopy>();
        services.AddSingleton<StoredBillingSettings>();
        services.AddSingleton<IPostConfigureOptions<BillingOptions>>(provider => provider.GetRequiredService<StoredBillingSettings>());
        services.AddSingleton<IOptionsChangeTokenSource<BillingOptions>>(provider => provider.GetRequiredService<StoredBillingSettings>());
        services.AddHostedService<BillingSettingsRefresher>();
        services.AddScoped<BillingSettingsCommands>();
        services.AddScoped<AccountingSettingsCommands>();
        services.AddScoped<ExchangeRateCommands>();
        services.AddSingleton<BillingChunkWriter>();
        services.AddSingleton<PaymentAttemptWriter>();
        services.AddSingleton<DunningCaseWriter>();
        services.AddSingleton<ChargeThrottle>();
        services.AddSingleton<BillingRunTimings>();
        services.AddScoped<BillingRunService>();
        services.AddScoped<BillingChunkProcessor>();
        services.AddSingleton<MrrRecorder>();
        services.AddSingleton<RevenueRecognitionRecorder>();
        services.AddSingleton<DunningCaseFactsRecorder>();
        DapperSetup.Configure();
        services.AddScoped<DashboardRefresher>();
        services.AddSingleton<InvoiceList>();
        services.AddSingleton<SubscriptionList>();
        services.AddSingleton<CustomerList>();
        services.AddSingleton<InvoiceDetails>();
        services.AddSingleton<CreditNoteDetails>();
        services.AddSingleton<DisputeList>();
        services.AddSingleton<PaymentList>();
        services.AddSingleton<DunningQueue>();
        services.AddSingleton<DunningStatistics>();
        services.AddSingleton<AuditList>();
        services.AddSingleton<OperationsStatus>();
        services.AddSingleton<BillingRunList>();
        services.AddSingleton<CustomerDetails>();
        services.AddSingleton<SubscriptionDetails>();
        services.AddSingleton<DunningCaseDetails>();
        services.AddSingleton<DashboardQueries>();
        services.AddSingleton<MrrBridgeQueries>();
        services.AddSingleton<CohortQueries>();
        services.AddSingleton<ExchangeRateQueries>();
        services.AddSingleton<JournalQueries>();
        services.AddSingleton<TaxReportQueries>();
        services.AddSingleton<RevenueRecognitionQueries>();
        services.AddSingleton<TestClockQueries>();
        return builder;
    }

    private static void AddCommandValidators(this IServiceCollection services)
    {
        services.AddSingleton<IValidator<CreateCustomer>, CreateCustomerValidator>();
        services.AddSingleton<IValidator<SaveTaxTable>, SaveTaxTableValidator>();
        services.AddSingleton<IValidator<SaveAccountCodes>, SaveAccountCodesValidator>();
        services.AddSingleton<IValidator<SaveReportingCurrency>, SaveReportingCurrencyValidator>();
        services.AddSingleton<IValidator<EnterExchangeRate>, EnterExchangeRateValidator>();
        services.AddSingleton<IValidator<UpdateCustomer>, UpdateCustomerValidator>();
        services.AddSingleton<IValidator<AttachPaymentMethod>, AttachPaymentMethodValidator>();
        services.AddSingleton<IValidator<CreateSubscription>, CreateSubscriptionValidator>();
        services.AddSingleton<IValidator<ChangePlan>, ChangePlanValidator>();
        services.AddSingleton<IValidator<CreatePlan>, CreatePlanValidator>();
        services.AddSingleton<IValidator<AddPrice>, AddPriceValidator>();
        services.AddSingleton<IValidator<CreateCoupon>, CreateCouponValidator>();
        services.AddSingleton<IValidator<ApplyCoupon>, ApplyCouponValidator>();
        services.AddSingleton<IValidator<MigratePrice>, MigratePriceValidator>();
        services.AddSingleton<IValidator<CancelSubscription>, CancelSubscriptionValidator>();
        services.AddSingleton<IValidator<SaveDunningPolicy>, SaveDunningPolicyValidator>();
        services.AddSingleton<IValidator<SaveBillingSettings>, SaveBillingSettingsValidator>();
        services.AddSingleton<IValidator<RefundPayment>, RefundPaymentValidator>();
        services.AddSingleton<IValidator<IssueCreditNote>, IssueCreditNoteValidator>();
        services.AddSingleton<IValidator<AdjustBalance>, AdjustBalanceValidator>();
        services.AddSingleton<IValidator<CreateOneOffInvoice>, CreateOneOffInvoiceValidator>();
    }

    /// <summary>
    /// Both adapters, and the router that charges through the one of the gateway mode in force (Gateway:Mode until an admin
    /// saves another on the Billing settings page). Stripe's adapter is made only when it is first used.
    /// </summary>
    private static void AddPaymentGateway(this IServiceCollection services, IConfiguration configuration)
    {
        var mode = configuration[$"{GatewayOptions.Section}:{nameof(GatewayOptions.Mode)}"] ?? new GatewayOptions().Mode;
        if (mode is not (SandboxGateway.GatewayName or StripeGateway.GatewayName))
            throw new StartupException(
                $"Gateway:Mode '{mode}' is not a known payment gateway (known: '{SandboxGateway.GatewayName}', '{StripeGateway.GatewayName}').");
        // One instance per process each: the sandbox's memory of idempotency keys, Stripe's client and connection pool.
        services.AddSingleton<SandboxGateway>();
        services.AddSingleton<StripeGateway>();
        services.AddSingleton<GatewayRouter>();
        services.AddSingleton<IPaymentGateway>(provider => provider.GetRequiredService<GatewayRouter>());
    }

    /// <summary>
    /// The engine's clock (<see cref="EngineClock"/>) over the host's: the system clock, or the one registered before
    /// (a test's fake time).
    /// </summary>
    private static void AddEngineClock(this IServiceCollection services)
    {
        var host = services.LastOrDefault(d => d.ServiceType == typeof(TimeProvider))?.ImplementationInstance as TimeProvider ?? TimeProvider.System;
        services.AddSingleton(new EngineClock(host));
        services.AddSingleton<TimeProvider>(provider => provider.GetRequiredService<EngineClock>());
    }

    public static TimeZoneInfo? TryFindTimeZone(string id) =>
        TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : null;

    /// <summary>
    /// One data protection key ring for every node, kept in PostgreSQL: a sign-in cookie, an antiforgery token or a pay link
    /// made by one node is read by another, and keys survive restarts on a read-only file system. With a certificate from
    /// the secrets file the keys are encrypted to it at rest.
    /// </summary>
    private static void AddSharedKeyRing(this IServiceCollection services, IConfiguration configuration)
    {
        var keyRing = configuration.GetSection(KeyRingOptions.Section).Get<KeyRingOptions>() ?? new KeyRingOptions();
        var protection = services.AddDataProtection().SetApplicationName("BillingConsole").PersistKeysToDbContext<BillingDbContext>();
        if (string.IsNullOrWhiteSpace(keyRing.Certificate)) return;
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12(Convert.FromBase64String(keyRing.Certificate), keyRing.CertificatePassword);
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            throw new StartupException($"KeyRing:Certificate is not a base64 PKCS#12 certificate that opens with KeyRing:CertificatePassword: {e.Message}", e);
        }
        if (!certificate.HasPrivateKey)
            throw new StartupException("KeyRing:Certificate has no private key: the key ring could be encrypted but never read back.");
        protection.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
    }

}
