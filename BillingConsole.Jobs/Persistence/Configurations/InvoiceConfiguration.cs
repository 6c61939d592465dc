using BillingConsole.Domain.Billing;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Subscriptions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BillingConsole.Persistence.Configurations;

internal sealed class InvoiceConfiguration : IEntityTypeConfiguration<Invoice>
{
    /// <summary>Percent of each page filled by inserts; the rest is kept for the row's later versions.</summary>
    public const int InvoiceFillFactor = 75;

    public void Configure(EntityTypeBuilder<Invoice> builder)
    {
        // Room on each page for a charge's count of its attempt, which then stays on the page without new index entries
        // (a heap-only tuple); the claim is kept in a table of its own (Persistence.ChargeClaims).
        builder.HasStorageParameter("fillfactor", InvoiceFillFactor);
        builder.ToTable("invoices", t =>
        {
            t.HasCheckConstraint("ck_invoices_credit_applied", "credit_applied >= 0");
            t.HasCheckConstraint("ck_invoices_amount_paid", "amount_paid >= 0");
        });
        builder.Property(i => i.Id).ValueGeneratedNever();
        builder.Property(i => i.Number).HasMaxLength(40);
        builder.Property(i => i.Status).AsSnakeCaseString();
        builder.Property(i => i.Kind).AsSnakeCaseString();
        builder.Property(i => i.CollectionMethod).AsSnakeCaseString();
        builder.CurrencyColumn();
        builder.MoneyField("_subtotal", "subtotal");
        builder.MoneyField("_tax", "tax");
        builder.MoneyField("_total", "total");
        builder.MoneyField("_creditApplied", "credit_applied");
        builder.MoneyField("_amountPaid", "amount_paid");
        builder.MoneyField("_amountWrittenOff", "amount_written_off");
        builder.MoneyField("_amountCredited", "amount_credited").HasDefaultValue(0m);
        // Kept as a column (not only computed) so lists can filter and sort by what is owed.
        builder.Property<decimal>("AmountDueColumn").HasColumnName("amount_due")
            .HasComputedColumnSql("case when status = 'open' then greatest(total - credit_applied - amount_paid - amount_credited, 0) else 0 end", stored: true);
        foreach (var ignored in new[] { nameof(Invoice.Subtotal), nameof(Invoice.Tax), nameof(Invoice.Total), nameof(Invoice.CreditApplied),
                     nameof(Invoice.AmountPaid), nameof(Invoice.AmountWrittenOff), nameof(Invoice.AmountCredited), nameof(Invoice.TaxCredited), nameof(Invoice.Creditable), nameof(Invoice.AmountDue), nameof(Invoice.AmountPayable) })
            builder.Ignore(ignored);
        builder.HasMany(i => i.Lines).WithOne().HasForeignKey(l => l.InvoiceId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(i => i.Lines).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.HasOne<Customer>().WithMany().HasForeignKey(i => i.CustomerId);
        builder.HasOne<Subscription>().WithMany().HasForeignKey(i => i.SubscriptionId);
        builder.HasOne<BillingRun>().WithMany().HasForeignKey(i => i.BillingRunId);

        // Exactly once: one cycle invoice per subscription and period, whatever reruns, crashes or second nodes do.
        builder.HasIndex(i => new { i.SubscriptionId, i.PeriodStart }).IsUnique()
            .HasFilter("kind = 'subscription_cycle'").HasDatabaseName("ux_invoices_subscription_period");
        builder.HasIndex(i => i.Number, "ux_invoices_number").IsUnique();
        builder.HasIndex(i => new { i.CustomerId, i.CreatedAt });
        builder.HasIndex(i => new { i.Status, i.DueAt });
        builder.HasIndex(i => new { i.CreatedAt, i.Id });
        // The console list at millions of invoices: each sort, and each few-valued filter in the default newest-first order,
        // reads along an index and stops after a page, instead of sorting every match.
        builder.HasIndex(i => new { i.Status, i.CreatedAt, i.Id });
        builder.HasIndex("Currency", nameof(Invoice.CreatedAt), nameof(Invoice.Id)).HasDatabaseName("ix_invoices_currency_created_at_id");
        // A range of totals in the default order: the range's rows are read from this index alone and sorted
        // (ListQuery.BoundedRangeCap); the customer is there for the filter that leaves out test customers.
        builder.HasIndex("_total", nameof(Invoice.Id)).IncludeProperties(nameof(Invoice.CreatedAt), nameof(Invoice.CustomerId))
            .HasDatabaseName("ix_invoices_total_id");
        builder.HasIndex("AmountDueColumn", nameof(Invoice.Id)).HasDatabaseName("ix_invoices_amount_due_id");
        builder.HasIndex(i => new { i.DueAt, i.Id });
        builder.HasIndex(i => new { i.SubscriptionId, i.CreatedAt });
        // A run's invoices, and a chunk's among them by its subscriptions: the chunk's charge counts are read along it while the
        // run is still writing the table, when the planner's statistics cannot yet tell how many invoices the run has.
        builder.HasIndex(i => new { i.BillingRunId, i.SubscriptionId });
        // The auto-collection job reads open invoices, oldest issued first, and keeps those never tried. The attempt count is
        // left out of the filter on purpose: a column in any index makes every update of it touch all the table's indexes,
        // and a charge counts its attempt on the invoice before calling the gateway.
        builder.HasIndex(i => new { i.IssuedAt, i.Id }).HasFilter("status = 'open'").HasDatabaseName("ix_invoices_awaiting_collection");
        builder.HasIndex(i => i.Number, "ix_invoices_number_trgm").HasMethod("gin").HasOperators("gin_trgm_ops");
    }
}

internal sealed class InvoiceLineConfiguration : IEntityTypeConfiguration<InvoiceLine>
{
    public void Configure(EntityTypeBuilder<InvoiceLine> builder)
    {
        builder.ToTable("invoice_lines");
        builder.Property(l => l.Id).ValueGeneratedNever();
        builder.Property(l => l.Kind).AsSnakeCaseString();
        builder.Property(l => l.Description).HasMaxLength(300);
        builder.CurrencyColumn();
        builder.MoneyField("_unitAmount", "unit_amount");
        builder.MoneyField("_amount", "amount");
        builder.Ignore(l => l.UnitAmount);
        builder.Ignore(l => l.Amount);
        builder.Ignore(l => l.IsProration);
        builder.Property(l => l.TaxRate).HasPrecision(7, 6);
        builder.Property(l => l.TaxCountry).HasMaxLength(2);
        builder.Property(l => l.TaxRegion).HasMaxLength(10);
        builder.MoneyField("_taxAmount", "tax_amount");
        builder.Ignore(l => l.TaxAmount);
        builder.HasOne<Price>().WithMany().HasForeignKey(l => l.PriceId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(l => l.InvoiceId);
    }
}

internal sealed class PendingInvoiceLineConfiguration : IEntityTypeConfiguration<PendingInvoiceLine>
{
    public void Configure(EntityTypeBuilder<PendingInvoiceLine> builder)
    {
        builder.ToTable("pending_invoice_lines");
        builder.Property(l => l.Id).ValueGeneratedNever();
        builder.Property(l => l.Kind).AsSnakeCaseString();
        builder.Property(l => l.Description).HasMaxLength(300);
        builder.CurrencyColumn();
        builder.MoneyField("_unitAmount", "unit_amount");
        builder.MoneyField("_amount", "amount");
        builder.Ignore(l => l.UnitAmount);
        builder.Ignore(l => l.Amount);
        builder.HasOne<Subscription>().WithMany().HasForeignKey(l => l.SubscriptionId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Customer>().WithMany().HasForeignKey(l => l.CustomerId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Invoice>().WithMany().HasForeignKey(l => l.InvoiceId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Price>().WithMany().HasForeignKey(l => l.PriceId).OnDelete(DeleteBehavior.Restrict);
        // What the billing run and the preview read: the lines still waiting, per subscription.
        builder.HasIndex(l => l.SubscriptionId).HasFilter("invoice_id is null").HasDatabaseName("ix_pending_invoice_lines_waiting");
        builder.HasIndex(l => l.InvoiceId);
    }
}
