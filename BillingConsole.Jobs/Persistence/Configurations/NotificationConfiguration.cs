using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BillingConsole.Persistence.Configurations;

internal sealed class NotificationConfiguration : IEntityTypeConfiguration<Notification>
{
    public void Configure(EntityTypeBuilder<Notification> builder)
    {
        builder.ToTable("notifications");
        builder.Property(n => n.Id).ValueGeneratedNever();
        builder.Property(n => n.Kind).HasMaxLength(100);
        builder.Property(n => n.EventKey).HasMaxLength(200);
        builder.Property(n => n.Status).AsSnakeCaseString();
        builder.Property(n => n.LastError).HasMaxLength(1000);
        builder.Property(n => n.Recipient).HasMaxLength(320);
        builder.Property(n => n.Subject).HasMaxLength(500);
        builder.HasOne<Customer>().WithMany().HasForeignKey(n => n.CustomerId);
        builder.HasOne<Invoice>().WithMany().HasForeignKey(n => n.InvoiceId);
        builder.HasOne<DunningCase>().WithMany().HasForeignKey(n => n.DunningCaseId);
        // One event never gives two emails of a kind, whichever path or node writes it.
        builder.HasIndex(n => new { n.Kind, n.EventKey }).IsUnique();
        // The deliverer's queue: pending notifications by when they are due.
        builder.HasIndex(n => n.NextAttemptAt).HasFilter("status = 'pending'").HasDatabaseName("ix_notifications_queue");
        builder.HasIndex(n => new { n.CustomerId, n.CreatedAt });
        // The per-minute rate counts what was sent in the last minute.
        builder.HasIndex(n => n.SentAt).HasFilter("status = 'sent'");
        builder.HasIndex(n => n.InvoiceId);
        builder.HasIndex(n => n.DunningCaseId);
    }
}

internal sealed class NotificationTemplateVersionConfiguration : IEntityTypeConfiguration<NotificationTemplateVersion>
{
    public void Configure(EntityTypeBuilder<NotificationTemplateVersion> builder)
    {
        builder.ToTable("notification_templates");
        builder.HasKey(t => new { t.Kind, t.Version });
        builder.Property(t => t.Kind).HasMaxLength(100);
        builder.Property(t => t.Subject).HasMaxLength(500);
        builder.Property(t => t.Html).HasColumnType("text");
        builder.Property(t => t.Text).HasColumnType("text");
        builder.Property(t => t.CreatedBy).HasMaxLength(200);
        builder.Property(t => t.Reason).HasMaxLength(1000);
    }
}
