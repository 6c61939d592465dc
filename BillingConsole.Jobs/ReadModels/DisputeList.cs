using BillingConsole.Persistence.Availability;
using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <param name="EvidenceDueBy">Until when the gateway takes our evidence; null when it asks for none.</param>
public sealed record DisputeRow(Guid Id, string GatewayDisputeId, Guid InvoiceId, string? InvoiceNumber, Guid CustomerId, string CustomerName, string Status,
    decimal Amount, decimal Fee, string Currency, string Reason, DateTimeOffset? EvidenceDueBy, DateTimeOffset CreatedAt, DateTimeOffset? ClosedAt)
{
    /// <summary>Evidence is wanted within this many days (or is late): the pages highlight the date.</summary>
    public const int UrgentDays = 7;

    public bool AwaitsEvidence => ClosedAt is null && Status is "needs_response" or "warning_needs_response";

    public bool EvidenceUrgent(DateTimeOffset now) => AwaitsEvidence && EvidenceDueBy is { } due && due - now <= TimeSpan.FromDays(UrgentDays);
}

/// <summary>Disputes for the invoice and customer pages, and the open ones for the dashboard (soonest evidence first).</summary>
public sealed class DisputeList(NpgsqlDataSource dataSource, ReadOnlyState readOnly)
{
    internal const string Select = """
        select d.id, d.gateway_dispute_id, d.invoice_id, i.number as invoice_number, d.customer_id, c.name as customer_name, d.status,
               d.amount, d.fee, d.currency, d.reason, d.evidence_due_by, d.created_at, d.closed_at
        from disputes d join invoices i on i.id = d.invoice_id join customers c on c.id = d.customer_id
        """;

    /// <summary>The open disputes; none while the database is away, so the dashboard still shows its cached figures.</summary>
    public async Task<IReadOnlyList<DisputeRow>> OpenAsync(int limit, CancellationToken ct)
    {
        if (readOnly.IsReadOnly) return [];
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            return [.. await connection.QueryAsync<DisputeRow>(new CommandDefinition(
                $"{Select} where d.closed_at is null order by d.evidence_due_by nulls last, d.created_at limit @limit", new { limit }, cancellationToken: ct))];
        }
        catch (NpgsqlException)
        {
            return [];
        }
    }
}
