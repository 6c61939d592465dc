using System.Text.Json;
using System.Text.Json.Serialization;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Subscriptions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BillingConsole.Persistence.Configurations;

internal sealed class DunningCaseConfiguration : IEntityTypeConfiguration<DunningCase>
{
    public void Configure(EntityTypeBuilder<DunningCase> builder)
    {
        builder.ToTable("dunning_cases");
        builder.Property(c => c.Id).ValueGeneratedNever();
        builder.Property(c => c.Status).AsSnakeCaseString();
        builder.Property(c => c.LastDeclineCode).HasMaxLength(60);
        builder.Property(c => c.NextAttemptReason).HasMaxLength(500);
        builder.Property(c => c.FinalAction).HasMaxLength(40);
        builder.CurrencyColumn();
        builder.MoneyField("_amount", "amount");
        builder.Ignore(c => c.Amount);
        builder.Ignore(c => c.IsOpen);
        builder.Ignore(c => c.LastStepDay);
        builder.HasMany(c => c.Steps).WithOne().HasForeignKey(s => s.CaseId);
        builder.Navigation(c => c.Steps).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.Property<uint>("xmin").IsRowVersion();
        builder.HasOne<Invoice>().WithMany().HasForeignKey(c => c.InvoiceId);
        builder.HasOne<Customer>().WithMany().HasForeignKey(c => c.CustomerId);
        builder.HasOne<Subscription>().WithMany().HasForeignKey(c => c.SubscriptionId).OnDelete(DeleteBehavior.Restrict);
        // One open case per invoice.
        builder.HasIndex(c => c.InvoiceId).IsUnique()
            .HasFilter("status in ('retry_pending', 'retrying', 'awaiting_payment_method')").HasDatabaseName("ux_dunning_cases_open_invoice");
        // The dunning queue: open cases by when their next retry is due.
        builder.HasIndex(c => c.NextAttemptAt).HasFilter("status = 'retry_pending'").HasDatabaseName("ix_dunning_cases_queue");
        builder.HasIndex(c => new { c.Status, c.OpenedAt });
        // The dunning queue's default view, every open case newest first: read in order instead of sorting them all.
        builder.HasIndex(c => new { c.OpenedAt, c.Id }, "ix_dunning_cases_open_opened_at")
            .HasFilter("status in ('retry_pending', 'retrying', 'awaiting_payment_method')");
        builder.HasIndex(c => c.CustomerId);
    }
}

internal sealed class DunningStepTakenConfiguration : IEntityTypeConfiguration<DunningStepTaken>
{
    public void Configure(EntityTypeBuilder<DunningStepTaken> builder)
    {
        builder.ToTable("dunning_case_steps");
        builder.Property(s => s.Id).ValueGeneratedNever();
        builder.Property(s => s.Action).AsSnakeCaseString();
        builder.Property(s => s.Template).HasMaxLength(100);
        // A step is taken once: two ladder passes at once collide here even if both read the case before either wrote.
        builder.HasIndex(s => new { s.CaseId, s.Day }).IsUnique();
    }
}

internal sealed class DunningPolicyConfiguration : IEntityTypeConfiguration<DunningPolicyVersion>
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public void Configure(EntityTypeBuilder<DunningPolicyVersion> builder)
    {
        builder.ToTable("dunning_policies");
        builder.HasKey(p => p.Version);
        builder.Property(p => p.Version).ValueGeneratedNever();
        builder.Property(p => p.CreatedBy).HasMaxLength(200);
        builder.Property(p => p.Reason).HasMaxLength(1000);
        builder.Property(p => p.Settings).AsJsonDocument(Json);
    }
}
