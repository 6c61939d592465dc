using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BillingConsole.Persistence.Configurations;

internal sealed class RefundConfiguration : IEntityTypeConfiguration<Refund>
{
    public void Configure(EntityTypeBuilder<Refund> builder)
    {
        builder.ToTable("refunds", t => t.HasCheckConstraint("ck_refunds_amount", "amount > 0"));
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.Gateway).HasMaxLength(40);
        builder.Property(r => r.ChargeReference).HasMaxLength(120);
        builder.Property(r => r.IdempotencyKey).HasMaxLength(80);
        builder.Property(r => r.Status).AsSnakeCaseString();
        builder.Property(r => r.Reason).AsSnakeCaseString();
        builder.Property(r => r.Memo).HasMaxLength(500);
        builder.Property(r => r.RequestedBy).HasMaxLength(200);
        builder.Property(r => r.GatewayReference).HasMaxLength(120);
        builder.Property(r => r.FailureMessage).HasMaxLength(500);
        builder.CurrencyColumn();
        builder.MoneyField("_amount", "amount");
        builder.Ignore(r => r.Amount);
        builder.HasOne<PaymentAttempt>().WithMany().HasForeignKey(r => r.PaymentAttemptId);
        builder.HasOne<Invoice>().WithMany().HasForeignKey(r => r.InvoiceId);
        builder.HasOne<Customer>().WithMany().HasForeignKey(r => r.CustomerId);
        // The gateway deduplicates by this key; so does the table.
        builder.HasIndex(r => r.IdempotencyKey).IsUnique();
        builder.HasIndex(r => r.PaymentAttemptId);
        builder.HasIndex(r => r.InvoiceId);
        builder.HasIndex(r => r.CreatedAt).HasFilter("status = 'pending'").HasDatabaseName("ix_refunds_pending");
    }
}

internal sealed class DisputeConfiguration : IEntityTypeConfiguration<Dispute>
{
    public void Configure(EntityTypeBuilder<Dispute> builder)
    {
        builder.ToTable("disputes", t => t.HasCheckConstraint("ck_disputes_amounts", "amount > 0 and fee >= 0"));
        builder.Property(d => d.Id).ValueGeneratedNever();
        builder.Property(d => d.GatewayDisputeId).HasMaxLength(120);
        builder.Property(d => d.Reason).HasMaxLength(60);
        builder.Property(d => d.Status).AsSnakeCaseString();
        builder.CurrencyColumn();
        builder.MoneyField("_amount", "amount");
        builder.MoneyField("_fee", "fee");
        builder.Ignore(d => d.Amount);
        builder.Ignore(d => d.Fee);
        builder.HasOne<PaymentAttempt>().WithMany().HasForeignKey(d => d.PaymentAttemptId);
        builder.HasOne<Invoice>().WithMany().HasForeignKey(d => d.InvoiceId);
        builder.HasOne<Customer>().WithMany().HasForeignKey(d => d.CustomerId);
        // Every report of one dispute updates one row.
        builder.HasIndex(d => d.GatewayDisputeId).IsUnique();
        builder.HasIndex(d => d.InvoiceId);
        builder.HasIndex(d => d.CustomerId);
        // The dashboard's open disputes, soonest evidence first.
        builder.HasIndex(d => d.EvidenceDueBy).HasFilter("closed_at is null").HasDatabaseName("ix_disputes_open");
    }
}

internal sealed class CreditNoteConfiguration : IEntityTypeConfiguration<CreditNote>
{
    public void Configure(EntityTypeBuilder<CreditNote> builder)
    {
        builder.ToTable("credit_notes", t => t.HasCheckConstraint("ck_credit_notes_total", "total > 0"));
        builder.Property(n => n.Id).ValueGeneratedNever();
        builder.Property(n => n.Number).HasMaxLength(40);
        builder.Property(n => n.Reason).AsSnakeCaseString();
        builder.Property(n => n.Settlement).AsSnakeCaseString();
        builder.Property(n => n.Memo).HasMaxLength(500);
        builder.CurrencyColumn();
        builder.MoneyField("_total", "total");
        builder.Ignore(n => n.Total);
        builder.MoneyField("_tax", "tax");
        builder.Ignore(n => n.Tax);
        builder.Ignore(n => n.Net);
        builder.HasMany(n => n.Lines).WithOne().HasForeignKey(l => l.CreditNoteId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(n => n.Lines).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.HasOne<Invoice>().WithMany().HasForeignKey(n => n.InvoiceId);
        builder.HasOne<Customer>().WithMany().HasForeignKey(n => n.CustomerId);
        builder.HasOne<Refund>().WithMany().HasForeignKey(n => n.RefundId);
        builder.HasIndex(n => n.Number).IsUnique();
        builder.HasIndex(n => n.InvoiceId);
        builder.HasIndex(n => new { n.CustomerId, n.IssuedAt });
        // One credit note per refund, however often its success is reported.
        builder.HasIndex(n => n.RefundId).IsUnique().HasFilter("refund_id is not null");
    }
}

internal sealed class CreditNoteLineConfiguration : IEntityTypeConfiguration<CreditNoteLine>
{
    public void Configure(EntityTypeBuilder<CreditNoteLine> builder)
    {
        builder.ToTable("credit_note_lines");
        builder.Property(l => l.Id).ValueGeneratedNever();
        builder.Property(l => l.Description).HasMaxLength(300);
        builder.CurrencyColumn();
        builder.MoneyField("_amount", "amount");
        builder.Ignore(l => l.Amount);
        builder.HasIndex(l => l.CreditNoteId);
    }
}
