using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Ledger;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BillingConsole.Persistence.Configurations;

internal sealed class LedgerEntryConfiguration : IEntityTypeConfiguration<LedgerEntry>
{
    public void Configure(EntityTypeBuilder<LedgerEntry> builder)
    {
        builder.ToTable("ledger_entries", t =>
        {
            t.HasCheckConstraint("ck_ledger_entries_one_side", "(debit > 0 and credit = 0) or (credit > 0 and debit = 0)");
        });
        builder.Property(e => e.Id).UseIdentityAlwaysColumn();
        builder.Property(e => e.Kind).AsSnakeCaseString();
        builder.Property(e => e.Account).AsSnakeCaseString();
        builder.Property(e => e.Currency).HasMaxLength(3).IsFixedLength();
        builder.HasOne<Customer>().WithMany().HasForeignKey(e => e.CustomerId);
        builder.HasOne<Invoice>().WithMany().HasForeignKey(e => e.InvoiceId).OnDelete(DeleteBehavior.Restrict);
        // A transaction id derives from its cause, so posting the same event twice violates this key.
        builder.HasIndex(e => new { e.TransactionId, e.LineNumber }).IsUnique();
        builder.HasIndex(e => new { e.CustomerId, e.Account });
        builder.HasIndex(e => e.InvoiceId);
        builder.HasIndex(e => new { e.Kind, e.OccurredAt });
    }
}
