using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Subscriptions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BillingConsole.Persistence.Configurations;

internal sealed class PlanConfiguration : IEntityTypeConfiguration<Plan>
{
    public void Configure(EntityTypeBuilder<Plan> builder)
    {
        builder.ToTable("plans");
        builder.Property(p => p.Id).ValueGeneratedNever();
        builder.Property(p => p.Code).HasMaxLength(60);
        builder.Property(p => p.Name).HasMaxLength(120);
        builder.Property(p => p.Description).HasMaxLength(1000);
        builder.HasIndex(p => p.Code).IsUnique();
        builder.HasMany(p => p.Prices).WithOne().HasForeignKey(p => p.PlanId);
        builder.Navigation(p => p.Prices).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class PriceConfiguration : IEntityTypeConfiguration<Price>
{
    public void Configure(EntityTypeBuilder<Price> builder)
    {
        builder.ToTable("prices", t => t.HasCheckConstraint("ck_prices_amount", "amount >= 0"));
        builder.Property(p => p.Id).ValueGeneratedNever();
        builder.CurrencyColumn();
        builder.MoneyField("_amount", "amount");
        builder.Ignore(p => p.Amount);
        builder.Ignore(p => p.MonthlyAmount);
        builder.Property(p => p.Interval).AsSnakeCaseString();
    }
}

internal sealed class CouponConfiguration : IEntityTypeConfiguration<Coupon>
{
    public void Configure(EntityTypeBuilder<Coupon> builder)
    {
        builder.ToTable("coupons", t =>
        {
            t.HasCheckConstraint("ck_coupons_one_kind", "(percent_off is null) <> (amount_off is null)");
            t.HasCheckConstraint("ck_coupons_redemptions", "max_redemptions is null or times_redeemed <= max_redemptions");
        });
        builder.Property(c => c.Id).ValueGeneratedNever();
        builder.Property(c => c.Code).HasMaxLength(60);
        builder.Property(c => c.Name).HasMaxLength(120);
        builder.Property(c => c.PercentOff).HasPrecision(7, 4);
        builder.Property(c => c.Currency).HasMaxLength(3).IsFixedLength();
        builder.Property<decimal?>("_amountOff").HasField("_amountOff").HasColumnName("amount_off").UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.Ignore(c => c.AmountOff);
        builder.Ignore(c => c.MonthsCovered);
        builder.Property(c => c.Duration).AsSnakeCaseString();
        builder.Property<uint>("xmin").IsRowVersion();
        builder.HasIndex(c => c.Code).IsUnique();
    }
}

internal sealed class DiscountConfiguration : IEntityTypeConfiguration<Discount>
{
    public void Configure(EntityTypeBuilder<Discount> builder)
    {
        builder.ToTable("discounts", t => t.HasCheckConstraint("ck_discounts_window", "ends_at is null or ends_at >= starts_at"));
        builder.Property(d => d.Id).ValueGeneratedNever();
        builder.HasOne<Coupon>().WithMany().HasForeignKey(d => d.CouponId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Customer>().WithMany().HasForeignKey(d => d.CustomerId);
        builder.HasOne<Subscription>().WithMany().HasForeignKey(d => d.SubscriptionId);
        // The billing run reads a chunk's discounts by customer in one query.
        builder.HasIndex(d => new { d.CustomerId, d.SubscriptionId });
    }
}

internal sealed class PriceMigrationConfiguration : IEntityTypeConfiguration<PriceMigration>
{
    public void Configure(EntityTypeBuilder<PriceMigration> builder)
    {
        builder.ToTable("price_migrations");
        builder.Property(m => m.Id).ValueGeneratedNever();
        builder.Property(m => m.Status).AsSnakeCaseString();
        builder.Property(m => m.Timing).AsSnakeCaseString();
        builder.CurrencyColumn();
        builder.Property(m => m.RequestedBy).HasMaxLength(200);
        builder.HasOne<Price>().WithMany().HasForeignKey(m => m.FromPriceId);
        builder.HasOne<Price>().WithMany().HasForeignKey(m => m.ToPriceId);
    }
}
