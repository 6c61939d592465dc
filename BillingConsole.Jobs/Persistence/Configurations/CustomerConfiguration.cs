using BillingConsole.Domain.Customers;
using BillingConsole.Domain.TestClocks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BillingConsole.Persistence.Configurations;

internal sealed class CustomerConfiguration : IEntityTypeConfiguration<Customer>
{
    public void Configure(EntityTypeBuilder<Customer> builder)
    {
        builder.ToTable("customers");
        builder.Property(c => c.Id).ValueGeneratedNever();
        builder.Property(c => c.Name).HasMaxLength(200);
        builder.Property(c => c.Email).HasMaxLength(320);
        builder.Property(c => c.TimeZone).HasMaxLength(64);
        builder.Property(c => c.TaxId).HasMaxLength(Customer.MaxTaxIdLength);
        builder.CurrencyColumn();
        builder.MoneyField("_creditBalance", "credit_balance");
        // A change saved over one made since the customer was read (its credit balance, above all) is refused, not lost.
        builder.Property<uint>("xmin").IsRowVersion();
        builder.Ignore(c => c.CreditBalance);
        builder.Ignore(c => c.DefaultPaymentMethod);
        builder.Property(c => c.CollectionMethod).AsSnakeCaseString();
        builder.ComplexProperty(c => c.Address, address =>
        {
            address.Property(a => a.Line1).HasColumnName("address_line1").HasMaxLength(200);
            address.Property(a => a.Line2).HasColumnName("address_line2").HasMaxLength(200);
            address.Property(a => a.City).HasColumnName("address_city").HasMaxLength(100);
            address.Property(a => a.PostalCode).HasColumnName("address_postal_code").HasMaxLength(20);
            address.Property(a => a.Country).HasColumnName("address_country").HasMaxLength(2);
            address.Property(a => a.Region).HasColumnName("address_region").HasMaxLength(10);
        });
        builder.HasMany(c => c.PaymentMethods).WithOne().HasForeignKey(p => p.CustomerId);
        builder.Navigation(c => c.PaymentMethods).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.HasIndex(c => c.ExternalRef).IsUnique().HasFilter("external_ref is not null");
        builder.HasIndex(c => c.CreatedAt);
        builder.HasOne<TestClock>().WithMany().HasForeignKey(c => c.TestClockId);
        builder.HasIndex(c => c.TestClockId).HasFilter("test_clock_id is not null");
        // The console list's sorts and currency filter read along these (id breaks ties); the name index also drives the other
        // lists' sort by customer name, walking customers by name and each one's rows.
        builder.HasIndex(c => new { c.Name, c.Id });
        builder.HasIndex(c => new { c.Email, c.Id });
        builder.HasIndex("_creditBalance", nameof(Customer.Id)).HasDatabaseName("ix_customers_credit_balance_id");
        builder.HasIndex("Currency", nameof(Customer.CreatedAt), nameof(Customer.Id)).HasDatabaseName("ix_customers_currency_created_at_id");
        // Text search on name and email in the console: trigram indexes answer ILIKE '%…%' without a scan.
        builder.HasIndex(c => c.Name, "ix_customers_name_trgm").HasMethod("gin").HasOperators("gin_trgm_ops");
        builder.HasIndex(c => c.Email, "ix_customers_email_trgm").HasMethod("gin").HasOperators("gin_trgm_ops");
    }
}

internal sealed class PaymentMethodConfiguration : IEntityTypeConfiguration<PaymentMethod>
{
    public void Configure(EntityTypeBuilder<PaymentMethod> builder)
    {
        builder.ToTable("payment_methods", t => t.HasCheckConstraint("ck_payment_methods_last4", "last4 ~ '^[0-9]{4}$'"));
        builder.Property(p => p.Id).ValueGeneratedNever();
        builder.Property(p => p.Gateway).HasMaxLength(40);
        builder.Property(p => p.Token).HasMaxLength(200);
        builder.Property(p => p.Brand).HasMaxLength(40);
        builder.Property(p => p.Last4).HasMaxLength(4).IsFixedLength();
        builder.HasIndex(p => new { p.Gateway, p.Token }).IsUnique();
        builder.HasIndex(p => p.CustomerId);
    }
}
