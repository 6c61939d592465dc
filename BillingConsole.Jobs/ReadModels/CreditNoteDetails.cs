using BillingConsole.Domain.Customers;
using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>A credit note as its PDF prints it: the note, its lines, the invoice it credits and the customer's current address.</summary>
public sealed record CreditNoteDetail(Guid Id, string Number, Guid InvoiceId, string InvoiceNumber, Guid CustomerId, string CustomerName,
    string CustomerEmail, string? CustomerTaxId, string Currency, decimal Total, string Reason, string Settlement, string? Memo, DateTimeOffset IssuedAt)
{
    public CustomerAddress CustomerAddress { get; init; } = CustomerAddress.Empty;
    public IReadOnlyList<CreditNoteLineRow> Lines { get; init; } = [];
    /// <summary>The rates the credited invoice was taxed at: the note's amounts include its tax.</summary>
    public IReadOnlyList<CreditedTax> InvoiceTaxes { get; init; } = [];
}

public sealed record CreditedTax(decimal Rate, bool ReverseCharge);

public sealed record CreditNoteLineRow(string Description, decimal Amount);

/// <summary>A credit note in the invoice's and the customer's lists.</summary>
public sealed record CreditNoteRow(Guid Id, string Number, Guid InvoiceId, string InvoiceNumber, string Currency, decimal Total, string Reason,
    string Settlement, DateTimeOffset IssuedAt);

/// <param name="Status">pending, succeeded or failed.</param>
public sealed record RefundRow(Guid Id, string Status, decimal Amount, string Currency, string Reason, string? GatewayReference, string? FailureMessage,
    string RequestedBy, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt);

public sealed class CreditNoteDetails(NpgsqlDataSource dataSource)
{
    /// <summary>The columns of <see cref="CreditNoteRow"/>, for the lists that show them.</summary>
    internal const string RowColumns = "n.id, n.number, n.invoice_id, i.number as invoice_number, n.currency, n.total, n.reason, n.settlement, n.issued_at";

    public async Task<CreditNoteDetail?> FindAsync(Guid creditNoteId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        using var results = await connection.QueryMultipleAsync(new CommandDefinition("""
            select n.id, n.number, n.invoice_id, i.number as invoice_number, n.customer_id, c.name as customer_name, c.email as customer_email,
                   c.tax_id as customer_tax_id, n.currency, n.total, n.reason, n.settlement, n.memo, n.issued_at
            from credit_notes n join invoices i on i.id = n.invoice_id join customers c on c.id = n.customer_id where n.id = @creditNoteId;
            select c.address_line1 as line1, c.address_line2 as line2, c.address_city as city, c.address_postal_code as postal_code,
                   c.address_country as country, c.address_region as region
            from credit_notes n join customers c on c.id = n.customer_id where n.id = @creditNoteId;
            select description, amount from credit_note_lines where credit_note_id = @creditNoteId order by id;
            select distinct l.tax_rate as rate, l.reverse_charge from credit_notes n join invoice_lines l on l.invoice_id = n.invoice_id
            where n.id = @creditNoteId order by l.reverse_charge, l.tax_rate desc;
            """, new { creditNoteId }, cancellationToken: ct));
        var note = await results.ReadSingleOrDefaultAsync<CreditNoteDetail>();
        if (note is null) return null;
        return note with
        {
            CustomerAddress = await results.ReadSingleAsync<CustomerAddress>(),
            Lines = (await results.ReadAsync<CreditNoteLineRow>()).ToList(),
            InvoiceTaxes = (await results.ReadAsync<CreditedTax>()).ToList(),
        };
    }
}
