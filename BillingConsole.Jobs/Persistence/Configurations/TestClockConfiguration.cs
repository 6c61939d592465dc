using BillingConsole.Domain.TestClocks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BillingConsole.Persistence.Configurations;

internal sealed class TestClockConfiguration : IEntityTypeConfiguration<TestClock>
{
    public void Configure(EntityTypeBuilder<TestClock> builder)
    {
        builder.ToTable("test_clocks");
        builder.Property(c => c.Id).ValueGeneratedNever();
        builder.Property(c => c.Name).HasMaxLength(TestClock.MaxNameLength);
        builder.Property(c => c.CreatedBy).HasMaxLength(200);
        builder.HasIndex(c => c.CreatedAt);
    }
}
