using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Engine.Payments;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.ReadModels;

public sealed record InvoiceDetail(Guid Id, string? Number, string Status, string Kind, string Currency, Guid CustomerId, string CustomerName,
    string CustomerEmail, Guid? SubscriptionId, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, DateTimeOffset CreatedAt,
    DateTimeOffset? IssuedAt, DateTimeOffset? DueAt, DateTimeOffset? PaidAt, DateTimeOffset? VoidedAt, decimal Subtotal, decimal Tax,
    decimal Total, decimal CreditApplied, decimal AmountPaid, decimal AmountWrittenOff, decimal AmountDue, int AttemptCount,
    string CollectionMethod, bool HasPaymentMethod, bool DunningPaused = false, string? CustomerTaxId = null, decimal AmountCredited = 0m)
{
    /// <summary>How the invoice is being collected, in words (see <see cref="InvoiceCollection"/>).</summary>
    public InvoiceCollection Collection { get; init; } = null!;
    /// <summary>The customer's billing address as it is now: invoices keep no copy of the address they were issued to.</summary>
    public CustomerAddress CustomerAddress { get; init; } = CustomerAddress.Empty;
    public IReadOnlyList<InvoiceLineRow> Lines { get; init; } = [];
    public IReadOnlyList<PaymentAttemptRow> Attempts { get; init; } = [];
    public IReadOnlyList<DunningCaseRow> DunningCases { get; init; } = [];
    public IReadOnlyList<CreditNoteRow> CreditNotes { get; init; } = [];
    public IReadOnlyList<RefundRow> Refunds { get; init; } = [];
    public IReadOnlyList<DisputeRow> Disputes { get; init; } = [];

    /// <summary>The tax by rate, as the PDF prints it; one row for an invoice at one rate.</summary>
    public IReadOnlyList<TaxAtRate> TaxRates =>
        [.. Lines.GroupBy(l => (l.TaxRate, l.ReverseCharge)).OrderBy(g => g.Key.ReverseCharge).ThenByDescending(g => g.Key.TaxRate)
            .Select(g => new TaxAtRate(g.Key.TaxRate, g.Key.ReverseCharge, g.Sum(l => l.Amount), g.Sum(l => l.TaxAmount)))];

    public bool ReverseCharged => Lines.Any(l => l.ReverseCharge);

    /// <summary>Payments the gateway took after the invoice was already paid or voided: owed back to the customer.</summary>
    public IReadOnlyList<PaymentAttemptRow> PaymentsToRefund => [.. Attempts.Where(a => a.Status == "refund_due")];
}

/// <param name="TaxRate">The rate the line was taxed at (a fraction); 0 when reverse-charged.</param>
/// <param name="TaxAmount">The line's share of the invoice's tax.</param>
public sealed record InvoiceLineRow(Guid Id, string Kind, string Description, int Quantity, decimal UnitAmount, decimal Amount,
    DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, decimal TaxRate = 0m, decimal TaxAmount = 0m, bool ReverseCharge = false);

/// <summary>The invoice's tax at one rate: the lines taxed at it, and their tax.</summary>
public sealed record TaxAtRate(decimal Rate, bool ReverseCharge, decimal Taxable, decimal Tax);

public sealed record PaymentAttemptRow(Guid Id, Guid InvoiceId, int AttemptNumber, string Status, string Trigger, decimal Amount, string Currency,
    string? DeclineCode, string? FailureMessage, string? GatewayReference, DateTimeOffset StartedAt, DateTimeOffset? CompletedAt, int? LatencyMs);

public sealed record DunningCaseRow(Guid Id, Guid InvoiceId, string Status, decimal Amount, string Currency, DateTimeOffset OpenedAt,
    DateTimeOffset? ClosedAt, int RetriesMade, string? LastDeclineCode, DateTimeOffset? NextAttemptAt, double? NextAttemptProbability,
    string? NextAttemptReason, int EscalationStep, string? FinalAction, int PolicyVersion);

/// <summary>
/// One invoice with its customer's address, lines, payment attempts and dunning cases, read in one round trip, and where
/// its collection stands.
/// </summary>
public sealed class InvoiceDetails(NpgsqlDataSource dataSource, IOptionsMonitor<BillingOptions> options, TimeProvider clock)
{
    public async Task<InvoiceDetail?> FindAsync(Guid invoiceId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        using var results = await connection.QueryMultipleAsync(new CommandDefinition($$"""
            select i.id, i.number, i.status, i.kind, i.currency, i.customer_id, c.name as customer_name, c.email as customer_email,
                   i.subscription_id, i.period_start, i.period_end, i.created_at, i.issued_at, i.due_at, i.paid_at, i.voided_at,
                   i.subtotal, i.tax, i.total, i.credit_applied, i.amount_paid, i.amount_written_off, i.amount_due, i.attempt_count,
                   coalesce(i.collection_method, c.collection_method) as collection_method,
                   exists (select 1 from payment_methods p where p.customer_id = c.id and p.is_default and p.detached_at is null) as has_payment_method,
                   c.dunning_paused, c.tax_id as customer_tax_id, i.amount_credited
            from invoices i join customers c on c.id = i.customer_id where i.id = @invoiceId;
            select c.address_line1 as line1, c.address_line2 as line2, c.address_city as city, c.address_postal_code as postal_code,
                   c.address_country as country, c.address_region as region
            from invoices i join customers c on c.id = i.customer_id where i.id = @invoiceId;
            select id, kind, description, quantity, unit_amount, amount, period_start, period_end, tax_rate, tax_amount, reverse_charge
            from invoice_lines where invoice_id = @invoiceId order by period_start, kind desc, id;
            select id, invoice_id, attempt_number, status, trigger, amount, currency, decline_code, failure_message, gateway_reference,
                   started_at, completed_at, latency_ms
            from payment_attempts where invoice_id = @invoiceId order by attempt_number;
            select id, invoice_id, status, amount, currency, opened_at, closed_at, retries_made, last_decline_code, next_attempt_at,
                   next_attempt_probability, next_attempt_reason, escalation_step, final_action, policy_version
            from dunning_cases where invoice_id = @invoiceId order by opened_at;
            select {{CreditNoteDetails.RowColumns}}
            from credit_notes n join invoices i on i.id = n.invoice_id where n.invoice_id = @invoiceId order by n.issued_at, n.number;
            select id, status, amount, currency, reason, gateway_reference, failure_message, requested_by, created_at, completed_at
            from refunds where invoice_id = @invoiceId order by created_at;
            {{DisputeList.Select}} where d.invoice_id = @invoiceId order by d.created_at;
            """, new { invoiceId }, cancellationToken: ct));
        var invoice = await results.ReadSingleOrDefaultAsync<InvoiceDetail>();
        if (invoice is null) return null;
        return invoice with
        {
            Collection = InvoiceCollection.Of(Facts(invoice), TimeSpan.FromMinutes(options.CurrentValue.AutoCollectionDelayMinutes), clock.GetUtcNow()),
            CustomerAddress = await results.ReadSingleAsync<CustomerAddress>(),
            Lines = (await results.ReadAsync<InvoiceLineRow>()).ToList(),
            Attempts = (await results.ReadAsync<PaymentAttemptRow>()).ToList(),
            DunningCases = (await results.ReadAsync<DunningCaseRow>()).ToList(),
            CreditNotes = (await results.ReadAsync<CreditNoteRow>()).ToList(),
            Refunds = (await results.ReadAsync<RefundRow>()).ToList(),
            Disputes = (await results.ReadAsync<DisputeRow>()).ToList(),
        };
    }

    private static CollectionFacts Facts(InvoiceDetail invoice) => new(Parse<InvoiceStatus>(invoice.Status), invoice.AmountDue, invoice.AttemptCount,
        invoice.IssuedAt, invoice.DueAt, invoice.PaidAt, Parse<CollectionMethod>(invoice.CollectionMethod), invoice.HasPaymentMethod);

    private static T Parse<T>(string text) where T : struct, Enum =>
        EnumNames.TryParseSnakeCase<T>(text, out var value) ? value : throw new InvalidOperationException($"Unknown {typeof(T).Name} '{text}' in the database.");
}
