using BillingConsole.Domain.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace BillingConsole.Persistence.Configurations;

internal sealed class EventEndpointConfiguration : IEntityTypeConfiguration<EventEndpoint>
{
    public void Configure(EntityTypeBuilder<EventEndpoint> builder)
    {
        builder.ToTable("event_endpoints");
        builder.Property(e => e.Id).ValueGeneratedNever();
        builder.Property(e => e.Url).HasMaxLength(2000);
        builder.Property(e => e.EventTypes).HasColumnType("text[]");
        builder.Property(e => e.SealedSecret).HasMaxLength(1000);
        builder.Property(e => e.Description).HasMaxLength(500);
        builder.Property(e => e.DisabledReason).HasMaxLength(1000);
        builder.Property(e => e.CreatedBy).HasMaxLength(200);
    }
}

internal sealed class OutgoingEventConfiguration : IEntityTypeConfiguration<OutgoingEvent>
{
    public void Configure(EntityTypeBuilder<OutgoingEvent> builder)
    {
        // Rows are written by the triggers of migration OutgoingEvents, in the transaction of the change they record.
        builder.ToTable("events");
        builder.Property(e => e.Id).ValueGeneratedNever();
        builder.Property(e => e.Sequence).UseIdentityAlwaysColumn();
        builder.HasAlternateKey(e => e.Sequence);
        builder.Property(e => e.Type).HasMaxLength(60);
        builder.Property(e => e.ObjectType).HasMaxLength(40);
        builder.Property(e => e.Body).HasColumnType("text");
        // The deliverer asks whether an earlier event of the same object is still pending.
        builder.HasIndex(e => new { e.OrderingKey, e.Sequence });
    }
}

internal sealed class EventDeliveryConfiguration : IEntityTypeConfiguration<EventDelivery>
{
    public void Configure(EntityTypeBuilder<EventDelivery> builder)
    {
        builder.ToTable("event_deliveries");
        builder.Property(d => d.Id).ValueGeneratedNever();
        builder.Property(d => d.Status).AsSnakeCaseString();
        builder.Property(d => d.LastError).HasMaxLength(1000);
        builder.HasOne<OutgoingEvent>().WithMany().HasForeignKey(d => d.EventId);
        builder.HasOne<EventEndpoint>().WithMany().HasForeignKey(d => d.EndpointId);
        builder.HasIndex(d => new { d.EventId, d.EndpointId }).IsUnique();
        // The deliverer's queue: pending deliveries by when they are due.
        builder.HasIndex(d => new { d.EndpointId, d.NextAttemptAt }).HasFilter("status = 'pending'").HasDatabaseName("ix_event_deliveries_queue");
    }
}

internal sealed class EventDeliveryAttemptConfiguration : IEntityTypeConfiguration<EventDeliveryAttempt>
{
    public void Configure(EntityTypeBuilder<EventDeliveryAttempt> builder)
    {
        builder.ToTable("event_delivery_attempts");
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.ResponseExcerpt).HasMaxLength(EventDeliveryAttempt.ExcerptLength);
        builder.Property(a => a.Error).HasMaxLength(1000);
        builder.HasOne<EventDelivery>().WithMany().HasForeignKey(a => a.DeliveryId);
        builder.HasOne<EventEndpoint>().WithMany().HasForeignKey(a => a.EndpointId);
        // The delivery log: an endpoint's attempts, newest first.
        builder.HasIndex(a => new { a.EndpointId, a.AttemptedAt });
        builder.HasIndex(a => a.DeliveryId);
    }
}
