using BillingConsole.Configuration;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>
/// The tax of a period in one country (and region), at one rate, in one currency: the taxable amount and the tax of the lines
/// of invoices issued in the period, less those of invoices voided in it. Reverse-charged lines are a row of their own (rate 0).
/// </summary>
public sealed record TaxReportRow(string Country, string? Region, decimal Rate, bool ReverseCharge, string Currency, int Invoices,
    decimal Taxable, decimal Tax);

/// <summary>
/// The tax report by country and rate (Finance → Tax report, and its CSV). It moves exactly as the ledger's tax payable account
/// does: an invoice credits it with its tax when issued and a void debits the tax as issued, so per currency the report's tax
/// equals the period's tax-payable credits less its debits. The country and region are those each line was
/// taxed for, kept on the line, so a customer who moves later does not move past tax.
/// </summary>
public sealed class TaxReportQueries(NpgsqlDataSource dataSource, IOptionsMonitor<BillingOptions> billing)
{
    public async Task<IReadOnlyList<TaxReportRow>> ForAsync(JournalPeriod period, CancellationToken ct)
    {
        var (start, end) = period.Instants(BillingEngineExtensions.TryFindTimeZone(billing.CurrentValue.TimeZone) ?? TimeZoneInfo.Utc);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<TaxReportRow>(new CommandDefinition("""
            with moved as (
                select id, 1 as sign from invoices where issued_at >= @start and issued_at < @end
                union all
                select id, -1 from invoices where issued_at is not null and voided_at >= @start and voided_at < @end
            )
            select l.tax_country as country, l.tax_region as region, l.tax_rate as rate, l.reverse_charge as reversecharge,
                   l.currency, count(distinct l.invoice_id)::int as invoices, sum(m.sign * l.amount) as taxable, sum(m.sign * l.tax_amount) as tax
            from moved m join invoice_lines l on l.invoice_id = m.id
            group by l.tax_country, l.tax_region, l.tax_rate, l.reverse_charge, l.currency
            order by l.tax_country, l.tax_region nulls first, l.currency, l.reverse_charge, l.tax_rate
            """, new { start, end }, cancellationToken: ct));
        return rows.ToList();
    }
}
