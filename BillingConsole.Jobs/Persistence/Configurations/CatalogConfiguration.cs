using BillingConsole.Domain.Catalog;
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
