using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Audit;
using BillingConsole.Domain.Billing;
using BillingConsole.Domain.Invoicing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BillingConsole.Persistence.Configurations;

internal sealed class BillingRunConfiguration : IEntityTypeConfiguration<BillingRun>
{
    public void Configure(EntityTypeBuilder<BillingRun> builder)
    {
        builder.ToTable("billing_runs");
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.Status).AsSnakeCaseString();
        builder.Property(r => r.Trigger).HasMaxLength(40);
        builder.Property(r => r.StartedBy).HasMaxLength(200);
        builder.Property(r => r.Error).HasMaxLength(2000);
        builder.HasIndex(r => r.StartedAt);
        // Only one run at a time over the real customers, and one per test clock.
        builder.HasIndex(r => new { r.TestClockId, r.Status }).IsUnique().AreNullsDistinct(false).HasFilter("status = 'running'")
            .HasDatabaseName("ux_billing_runs_one_running");
    }
}

internal sealed class BillingRunChunkConfiguration : IEntityTypeConfiguration<BillingRunChunk>
{
    public void Configure(EntityTypeBuilder<BillingRunChunk> builder)
    {
        builder.ToTable("billing_run_chunks");
        builder.HasKey(c => new { c.RunId, c.Number });
        builder.HasOne<BillingRun>().WithMany().HasForeignKey(c => c.RunId);
    }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.ToTable("audit_log");
        builder.Property(a => a.Id).UseIdentityAlwaysColumn();
        builder.Property(a => a.Actor).HasMaxLength(200);
        builder.Property(a => a.ActorRole).HasMaxLength(40);
        builder.Property(a => a.Action).HasMaxLength(80);
        builder.Property(a => a.EntityType).HasMaxLength(60);
        builder.Property(a => a.EntityId).HasMaxLength(80);
        builder.Property(a => a.Reason).HasMaxLength(1000);
        builder.Property(a => a.Before).HasColumnType("jsonb");
        builder.Property(a => a.After).HasColumnType("jsonb");
        builder.HasIndex(a => a.OccurredAt);
        builder.HasIndex(a => new { a.EntityType, a.EntityId });
        builder.HasIndex(a => new { a.Actor, a.OccurredAt });
        builder.HasIndex(a => new { a.Action, a.OccurredAt });
    }
}

internal sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<IdempotencyRecord> builder)
    {
        builder.ToTable("idempotency_keys");
        builder.HasKey(k => k.Key);
        builder.Property(k => k.Operation).HasMaxLength(80);
        builder.Property(k => k.RequestHash).HasMaxLength(64);
        builder.Property(k => k.Status).HasMaxLength(20);
        builder.Property(k => k.ResponseBody).HasColumnType("text");
        builder.HasIndex(k => k.CreatedAt);
    }
}

internal sealed class WebhookEventConfiguration : IEntityTypeConfiguration<WebhookEvent>
{
    public void Configure(EntityTypeBuilder<WebhookEvent> builder)
    {
        builder.ToTable("webhook_events");
        builder.HasKey(e => new { e.Gateway, e.EventId });
        builder.Property(e => e.Gateway).HasMaxLength(40);
        builder.Property(e => e.EventId).HasMaxLength(120);
        builder.Property(e => e.Type).HasMaxLength(80);
        builder.Property(e => e.Payload).HasColumnType("jsonb");
        builder.HasIndex(e => e.ReceivedAt);
    }
}

internal sealed class WebhookRejectionConfiguration : IEntityTypeConfiguration<WebhookRejection>
{
    public void Configure(EntityTypeBuilder<WebhookRejection> builder)
    {
        builder.ToTable("webhook_rejections");
        builder.Property(r => r.Id).UseIdentityAlwaysColumn();
        builder.Property(r => r.Gateway).HasMaxLength(40);
        builder.Property(r => r.Reason).HasMaxLength(200);
        builder.Property(r => r.RemoteAddress).HasMaxLength(64);
        builder.HasIndex(r => r.ReceivedAt);
    }
}

internal sealed class SettingRecordConfiguration : IEntityTypeConfiguration<SettingRecord>
{
    public void Configure(EntityTypeBuilder<SettingRecord> builder)
    {
        builder.ToTable("settings");
        builder.HasKey(s => s.Key);
        builder.Property(s => s.Key).HasMaxLength(80);
        builder.Property(s => s.Value).HasColumnType("jsonb");
        builder.Property(s => s.UpdatedBy).HasMaxLength(200);
    }
}

internal sealed class CustomerNoteConfiguration : IEntityTypeConfiguration<CustomerNote>
{
    public void Configure(EntityTypeBuilder<CustomerNote> builder)
    {
        builder.ToTable("customer_notes");
        builder.Property(n => n.Id).UseIdentityAlwaysColumn();
        builder.Property(n => n.Author).HasMaxLength(200);
        builder.Property(n => n.Body).HasMaxLength(4000);
        builder.HasIndex(n => new { n.CustomerId, n.CreatedAt });
    }
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKeyRecord>
{
    public void Configure(EntityTypeBuilder<ApiKeyRecord> builder)
    {
        builder.ToTable("api_keys");
        builder.Property(k => k.Id).ValueGeneratedNever();
        builder.Property(k => k.Name).HasMaxLength(120);
        builder.Property(k => k.Prefix).HasMaxLength(16);
        builder.HasIndex(k => k.Prefix).IsUnique();
    }
}

internal sealed class MrrSnapshotConfiguration : IEntityTypeConfiguration<MrrSnapshot>
{
    public void Configure(EntityTypeBuilder<MrrSnapshot> builder)
    {
        builder.ToTable("mrr_snapshots");
        builder.HasKey(m => new { m.Day, m.Currency, m.PlanId });
        builder.Property(m => m.Currency).HasMaxLength(3).IsFixedLength();
    }
}

internal sealed class MrrMovementConfiguration : IEntityTypeConfiguration<MrrMovement>
{
    public void Configure(EntityTypeBuilder<MrrMovement> builder)
    {
        builder.ToTable("mrr_movements");
        builder.Property(m => m.Id).UseIdentityAlwaysColumn();
        builder.Property(m => m.Currency).HasMaxLength(3).IsFixedLength();
        builder.Property(m => m.Kind).HasMaxLength(30);
        builder.HasIndex(m => new { m.Day, m.Currency });
        builder.HasIndex(m => m.SubscriptionId);
    }
}

internal sealed class MrrSubscriptionStateConfiguration : IEntityTypeConfiguration<MrrSubscriptionState>
{
    public void Configure(EntityTypeBuilder<MrrSubscriptionState> builder)
    {
        builder.ToTable("mrr_subscription_states");
        builder.HasKey(m => m.SubscriptionId);
        builder.Property(m => m.Currency).HasMaxLength(3).IsFixedLength();
    }
}

internal sealed class MrrCohortCellConfiguration : IEntityTypeConfiguration<MrrCohortCell>
{
    public void Configure(EntityTypeBuilder<MrrCohortCell> builder)
    {
        builder.ToTable("mrr_cohort_cells");
        builder.HasKey(c => new { c.Currency, c.Cohort, c.Month });
        builder.Property(c => c.Currency).HasMaxLength(3).IsFixedLength();
    }
}

internal sealed class RevenueRecognitionSumConfiguration : IEntityTypeConfiguration<RevenueRecognitionSum>
{
    public void Configure(EntityTypeBuilder<RevenueRecognitionSum> builder)
    {
        builder.ToTable("revenue_recognition_sums");
        builder.HasKey(r => new { r.Seconds, r.Start, r.Currency });
        builder.Property(r => r.Currency).HasMaxLength(3).IsFixedLength();
        // Unbounded numeric: the slopes carry the digits that make a line's recognised amounts add up to its amount exactly.
        foreach (var sum in new[] { builder.Property(r => r.Invoiced), builder.Property(r => r.Constant), builder.Property(r => r.Slope) })
        {
            sum.HasColumnType("numeric").Metadata.SetPrecision(null);
            sum.Metadata.SetScale(null);
        }
    }
}

internal sealed class InvoiceChargeClaimConfiguration : IEntityTypeConfiguration<InvoiceChargeClaim>
{
    public void Configure(EntityTypeBuilder<InvoiceChargeClaim> builder)
    {
        builder.ToTable("invoice_charge_claims");
        builder.HasKey(c => c.InvoiceId);
        builder.HasOne<Invoice>().WithMany().HasForeignKey(c => c.InvoiceId);
    }
}

internal sealed class RevenueRecognitionPendingLineConfiguration : IEntityTypeConfiguration<RevenueRecognitionPendingLine>
{
    public void Configure(EntityTypeBuilder<RevenueRecognitionPendingLine> builder)
    {
        builder.ToTable("revenue_recognition_pending_lines");
        builder.HasKey(p => new { p.LineId, p.Kind });
        builder.Property(p => p.Kind).HasMaxLength(8);
        builder.Property(p => p.Currency).HasMaxLength(3).IsFixedLength();
    }
}

internal sealed class DunningCaseFactConfiguration : IEntityTypeConfiguration<DunningCaseFact>
{
    public void Configure(EntityTypeBuilder<DunningCaseFact> builder)
    {
        builder.ToTable("dunning_case_facts");
        builder.HasKey(f => f.CaseId);
        builder.Property(f => f.CaseId).ValueGeneratedNever();
        builder.Property(f => f.Currency).HasMaxLength(3).IsFixedLength();
        builder.Property(f => f.Status).HasMaxLength(32);
        builder.Property(f => f.OpeningDeclineCode).HasMaxLength(64);
        // A month's report reads its cohort's rows from this index alone.
        builder.HasIndex(f => f.OpenedAt)
            .IncludeProperties(f => new { f.CaseId, f.Status, f.Currency, f.Amount, f.DaysToClose, f.OpeningDeclineCode, f.Retries, f.SucceededRetry });
    }
}

internal sealed class DunningCaseFactsPendingConfiguration : IEntityTypeConfiguration<DunningCaseFactsPending>
{
    public void Configure(EntityTypeBuilder<DunningCaseFactsPending> builder)
    {
        builder.ToTable("dunning_case_facts_pending");
        builder.Property(p => p.Id).UseIdentityAlwaysColumn();
        builder.HasIndex(p => p.CaseId);
    }
}

internal sealed class DashboardSnapshotConfiguration : IEntityTypeConfiguration<DashboardSnapshotRecord>
{
    public void Configure(EntityTypeBuilder<DashboardSnapshotRecord> builder)
    {
        builder.ToTable("dashboard_snapshots");
        builder.Property(s => s.Id).ValueGeneratedNever();
        builder.Property(s => s.Figures).HasColumnType("jsonb");
    }
}

internal sealed class BulkRetryConfiguration : IEntityTypeConfiguration<BulkRetry>
{
    public void Configure(EntityTypeBuilder<BulkRetry> builder)
    {
        builder.ToTable("bulk_retries");
        builder.Property(b => b.Id).ValueGeneratedNever();
        builder.Property(b => b.RequestedBy).HasMaxLength(200);
        builder.Property(b => b.RequestedByRole).HasMaxLength(40);
        builder.Property(b => b.Reason).HasMaxLength(1000);
        builder.HasIndex(b => b.RequestedAt);
    }
}

internal sealed class BulkRetryItemConfiguration : IEntityTypeConfiguration<BulkRetryItem>
{
    public void Configure(EntityTypeBuilder<BulkRetryItem> builder)
    {
        builder.ToTable("bulk_retry_items");
        builder.HasKey(i => new { i.BulkRetryId, i.DunningCaseId });
        builder.HasOne<BulkRetry>().WithMany().HasForeignKey(i => i.BulkRetryId);
        builder.Property(i => i.Amount).HasColumnType("numeric(19,4)");
        builder.Property(i => i.Currency).HasMaxLength(3).IsFixedLength();
        builder.Property(i => i.Outcome).HasMaxLength(20);
        builder.Property(i => i.DeclineCode).HasMaxLength(60);
    }
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> builder)
    {
        builder.ToTable("data_protection_keys");
        // A key's XML (encrypted when a certificate is configured) runs to a few kilobytes.
        builder.Property(k => k.Xml).HasColumnType("text");
        builder.Property(k => k.FriendlyName).HasMaxLength(200);
    }
}

internal sealed class ExchangeRateConfiguration : IEntityTypeConfiguration<ExchangeRate>
{
    public void Configure(EntityTypeBuilder<ExchangeRate> builder)
    {
        builder.ToTable("exchange_rates");
        builder.Property(r => r.Id).UseIdentityAlwaysColumn();
        builder.Property(r => r.BaseCurrency).HasMaxLength(3).IsFixedLength();
        builder.Property(r => r.QuoteCurrency).HasMaxLength(3).IsFixedLength();
        builder.Property(r => r.Rate).HasPrecision(18, 8);
        builder.Property(r => r.EnteredBy).HasMaxLength(200);
        builder.HasIndex(r => new { r.BaseCurrency, r.QuoteCurrency, r.EffectiveOn }).IsUnique();
        builder.ToTable(t => t.HasCheckConstraint("ck_exchange_rates_positive", "rate > 0"));
    }
}
