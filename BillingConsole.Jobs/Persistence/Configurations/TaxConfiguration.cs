using System.Text.Json;
using BillingConsole.Domain.Tax;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BillingConsole.Persistence.Configurations;

internal sealed class TaxTableVersionConfiguration : IEntityTypeConfiguration<TaxTableVersion>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public void Configure(EntityTypeBuilder<TaxTableVersion> builder)
    {
        builder.ToTable("tax_tables");
        builder.HasKey(t => t.Version);
        builder.Property(t => t.Version).ValueGeneratedNever();
        builder.Property(t => t.CreatedBy).HasMaxLength(200);
        builder.Property(t => t.Reason).HasMaxLength(1000);
        // A table is a few dozen rules read whole, so it is one document per version.
        builder.Property(t => t.Table).AsJsonDocument(Json);
    }
}
