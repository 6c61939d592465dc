using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BillingConsole.Persistence.Configurations;

internal sealed class PaymentAttemptConfiguration : IEntityTypeConfiguration<PaymentAttempt>
{
    public void Configure(EntityTypeBuilder<PaymentAttempt> builder)
    {
        builder.ToTable("payment_attempts", t => t.HasCheckConstraint("ck_payment_attempts_amount", "amount > 0"));
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.IdempotencyKey).HasMaxLength(80);
        builder.Property(a => a.Gateway).HasMaxLength(40);
        builder.Property(a => a.Status).AsSnakeCaseString();
        builder.Property(a => a.Trigger).AsSnakeCaseString();
        builder.Property(a => a.DeclineCode).HasMaxLength(60);
        builder.Property(a => a.FailureMessage).HasMaxLength(500);
        builder.Property(a => a.GatewayReference).HasMaxLength(120);
        builder.CurrencyColumn();
        builder.MoneyField("_amount", "amount");
        builder.Ignore(a => a.Amount);
        builder.HasOne<Invoice>().WithMany().HasForeignKey(a => a.InvoiceId);
        builder.HasOne<Customer>().WithMany().HasForeignKey(a => a.CustomerId);
        builder.HasOne<PaymentMethod>().WithMany().HasForeignKey(a => a.PaymentMethodId);
        builder.HasIndex(a => a.IdempotencyKey).IsUnique();
        builder.HasIndex(a => new { a.InvoiceId, a.AttemptNumber }).IsUnique();
        // At most one success per invoice: a second successful charge cannot even be recorded.
        builder.HasIndex(a => a.InvoiceId).IsUnique().HasFilter("status = 'succeeded'").HasDatabaseName("ux_payment_attempts_one_success");
        builder.HasIndex(a => a.StartedAt);
        builder.HasIndex(a => new { a.CustomerId, a.StartedAt });
        builder.HasIndex(a => a.Status).HasFilter("status in ('pending', 'unknown')").HasDatabaseName("ix_payment_attempts_unresolved");
        builder.HasIndex(a => new { a.DeclineCode, a.StartedAt });
        // The console list's status sort and filter, and its amount sort, at millions of attempts.
        builder.HasIndex(a => new { a.Status, a.StartedAt, a.Id });
        builder.HasIndex("_amount", nameof(PaymentAttempt.Id)).HasDatabaseName("ix_payment_attempts_amount_id");
        // The list's trigger filter for every trigger but billing runs, whose attempts (most of them) stay out of it.
        builder.HasIndex(a => new { a.Trigger, a.StartedAt, a.Id }).HasFilter("trigger <> 'billing_run'")
            .HasDatabaseName("ix_payment_attempts_trigger_started_at_id");
    }
}

internal sealed class GatewayCircuitConfiguration : IEntityTypeConfiguration<GatewayCircuit>
{
    public void Configure(EntityTypeBuilder<GatewayCircuit> builder)
    {
        builder.ToTable("gateway_circuits");
        builder.HasKey(c => c.Gateway);
        builder.Property(c => c.Gateway).HasMaxLength(40);
        builder.Property(c => c.State).AsSnakeCaseString();
        builder.Property(c => c.LastFault).HasMaxLength(500);
        // Every node changes the one row: a change made from a stale read is refused and decided again.
        builder.Property<uint>("xmin").IsRowVersion();
    }
}
