using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Audit;
using BillingConsole.Domain.Billing;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Events;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using BillingConsole.Domain.Notifications;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Domain.Tax;
using BillingConsole.Domain.TestClocks;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Persistence;

public sealed class BillingDbContext(DbContextOptions<BillingDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<Customer> Customers => Set<Customer>();
    public DbSet<PaymentMethod> PaymentMethods => Set<PaymentMethod>();
    public DbSet<Plan> Plans => Set<Plan>();
    public DbSet<Price> Prices => Set<Price>();
    public DbSet<Coupon> Coupons => Set<Coupon>();
    public DbSet<Discount> Discounts => Set<Discount>();
    public DbSet<PriceMigration> PriceMigrations => Set<PriceMigration>();
    public DbSet<Subscription> Subscriptions => Set<Subscription>();
    public DbSet<Invoice> Invoices => Set<Invoice>();
    public DbSet<InvoiceLine> InvoiceLines => Set<InvoiceLine>();
    public DbSet<PendingInvoiceLine> PendingInvoiceLines => Set<PendingInvoiceLine>();
    public DbSet<PaymentAttempt> PaymentAttempts => Set<PaymentAttempt>();
    public DbSet<LedgerEntry> LedgerEntries => Set<LedgerEntry>();
    public DbSet<Refund> Refunds => Set<Refund>();
    public DbSet<CreditNote> CreditNotes => Set<CreditNote>();
    public DbSet<Dispute> Disputes => Set<Dispute>();
    public DbSet<DunningCase> DunningCases => Set<DunningCase>();
    public DbSet<DunningPolicyVersion> DunningPolicies => Set<DunningPolicyVersion>();
    public DbSet<TaxTableVersion> TaxTables => Set<TaxTableVersion>();
    public DbSet<BillingRun> BillingRuns => Set<BillingRun>();
    public DbSet<TestClock> TestClocks => Set<TestClock>();
    public DbSet<BillingRunChunk> BillingRunChunks => Set<BillingRunChunk>();
    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();
    public DbSet<IdempotencyRecord> IdempotencyKeys => Set<IdempotencyRecord>();
    public DbSet<BulkRetry> BulkRetries => Set<BulkRetry>();
    public DbSet<BulkRetryItem> BulkRetryItems => Set<BulkRetryItem>();
    public DbSet<WebhookEvent> WebhookEvents => Set<WebhookEvent>();
    public DbSet<WebhookRejection> WebhookRejections => Set<WebhookRejection>();
    public DbSet<SettingRecord> Settings => Set<SettingRecord>();
    public DbSet<CustomerNote> CustomerNotes => Set<CustomerNote>();
    public DbSet<ApiKeyRecord> ApiKeys => Set<ApiKeyRecord>();
    public DbSet<MrrSnapshot> MrrSnapshots => Set<MrrSnapshot>();
    public DbSet<ExchangeRate> ExchangeRates => Set<ExchangeRate>();
    public DbSet<MrrMovement> MrrMovements => Set<MrrMovement>();
    public DbSet<MrrSubscriptionState> MrrSubscriptionStates => Set<MrrSubscriptionState>();
    public DbSet<MrrCohortCell> MrrCohortCells => Set<MrrCohortCell>();
    public DbSet<RevenueRecognitionSum> RevenueRecognitionSums => Set<RevenueRecognitionSum>();
    public DbSet<InvoiceChargeClaim> InvoiceChargeClaims => Set<InvoiceChargeClaim>();
    public DbSet<RevenueRecognitionPendingLine> RevenueRecognitionPendingLines => Set<RevenueRecognitionPendingLine>();
    public DbSet<DunningCaseFact> DunningCaseFacts => Set<DunningCaseFact>();
    public DbSet<DunningCaseFactsPending> DunningCaseFactsPending => Set<DunningCaseFactsPending>();
    public DbSet<DashboardSnapshotRecord> DashboardSnapshots => Set<DashboardSnapshotRecord>();
    public DbSet<GatewayCircuit> GatewayCircuits => Set<GatewayCircuit>();
    public DbSet<Notification> Notifications => Set<Notification>();
    public DbSet<NotificationTemplateVersion> NotificationTemplates => Set<NotificationTemplateVersion>();
    public DbSet<EventEndpoint> EventEndpoints => Set<EventEndpoint>();
    public DbSet<OutgoingEvent> Events => Set<OutgoingEvent>();
    public DbSet<EventDelivery> EventDeliveries => Set<EventDelivery>();
    public DbSet<EventDeliveryAttempt> EventDeliveryAttempts => Set<EventDeliveryAttempt>();
    /// <summary>The key ring every node protects cookies, antiforgery tokens and pay links with.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasPostgresExtension("pg_trgm");
        modelBuilder.HasSequence<long>(InvoiceNumbers.Sequence).StartsAt(1000);
        modelBuilder.HasSequence<long>(InvoiceNumbers.CreditNoteSequence).StartsAt(1);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(BillingDbContext).Assembly);

        // Money records are never deleted by a cascade; only an invoice's own lines go with it.
        foreach (var foreignKey in modelBuilder.Model.GetEntityTypes().SelectMany(e => e.GetForeignKeys()))
        {
            if (foreignKey.DeclaringEntityType.ClrType != typeof(InvoiceLine))
                foreignKey.DeleteBehavior = DeleteBehavior.Restrict;
        }
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<decimal>().HavePrecision(19, 4);
        configurationBuilder.Properties<string>().HaveMaxLength(512);
    }
}
