using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Subscriptions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BillingConsole.Persistence.Configurations;

internal sealed class SubscriptionConfiguration : IEntityTypeConfiguration<Subscription>
{
    public void Configure(EntityTypeBuilder<Subscription> builder)
    {
        builder.ToTable("subscriptions", t => t.HasCheckConstraint("ck_subscriptions_period", "current_period_end > current_period_start"));
        builder.Property(s => s.Id).ValueGeneratedNever();
        builder.Property(s => s.Status).AsSnakeCaseString();
        builder.Property(s => s.CancellationKind).AsSnakeCaseString();
        builder.Ignore(s => s.IsBillable);
        builder.Property<uint>("xmin").IsRowVersion();
        builder.HasOne<Customer>().WithMany().HasForeignKey(s => s.CustomerId);
        builder.HasOne<Price>().WithMany().HasForeignKey(s => s.PriceId);
        builder.HasOne<Price>().WithMany().HasForeignKey(s => s.PendingPriceId);
        // The billing run's question: which billable subscriptions have a period that ended by now?
        builder.HasIndex(s => new { s.CurrentPeriodEnd, s.Id })
            .HasFilter("status in ('trialing', 'active', 'past_due')")
            .HasDatabaseName("ix_subscriptions_due");
        builder.HasIndex(s => s.CustomerId);
        builder.HasIndex(s => new { s.Status, s.CreatedAt });
        builder.HasIndex(s => new { s.PriceId, s.Status });
        builder.HasIndex(s => s.CanceledAt).HasFilter("canceled_at is not null");
        // The console list's sorts (the status sort and filter read the (status, created_at) index above).
        builder.HasIndex(s => new { s.CreatedAt, s.Id });
        builder.HasIndex(s => new { s.CurrentPeriodEnd, s.Id }, "ix_subscriptions_current_period_end_id");
    }
}
