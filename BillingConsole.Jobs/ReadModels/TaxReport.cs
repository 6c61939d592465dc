using BillingConsole.Domain.Common;
using BillingConsole.Configuration;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.ReadModels;

/// <summary>
/// The tax of a period in one country (and region), at one rate, in one currency: the taxable amount and the tax of the lines
/// of invoices issued in the period, less those of invoices voided in it and less what the period's credit notes (refunds'
/// included) gave back. Reverse-charged lines are a row of their own (rate 0).
/// </summary>
public sealed record TaxReportRow(string Country, string? Region, decimal Rate, bool ReverseCharge, string Currency, int Invoices,
    decimal Taxable, decimal Tax);

/// <summary>
/// The tax report by country and rate (Finance → Tax report, and its CSV). It moves exactly as the ledger's tax payable account
/// does: an invoice credits it with its tax when issued, a void debits the tax as issued and a credit note debits the tax it
/// gives back, so per currency the report's tax equals the period's tax-payable credits less its debits. A credit note's tax
/// and net are shared among its invoice's rates in proportion to the lines' tax and amounts, the rounding left on the largest. The country and region are those each line was
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
        var credited = await connection.QueryAsync<CreditedGroup>(new CommandDefinition("""
            select n.id as note, n.total - n.tax as net, n.tax as notetax, l.tax_country as country, l.tax_region as region, l.tax_rate as rate,
                   l.reverse_charge as reversecharge, l.currency, sum(l.amount) as taxable, sum(l.tax_amount) as tax
            from credit_notes n join invoice_lines l on l.invoice_id = n.invoice_id
            where n.issued_at >= @start and n.issued_at < @end
            group by n.id, n.total, n.tax, l.tax_country, l.tax_region, l.tax_rate, l.reverse_charge, l.currency
            """, new { start, end }, cancellationToken: ct));
        return Less(rows.ToList(), credited.GroupBy(c => c.Note).SelectMany(Shares));
    }

    /// <summary>One credit note beside one rate of its invoice: the note's net and tax, the rate's lines' amount and tax.</summary>
    private sealed record CreditedGroup(Guid Note, decimal Net, decimal NoteTax, string Country, string? Region, decimal Rate, bool ReverseCharge,
        string Currency, decimal Taxable, decimal Tax);

    /// <summary>A credit note's net and tax shared among its invoice's rates; what rounding leaves goes to the largest.</summary>
    private static IEnumerable<TaxReportRow> Shares(IGrouping<Guid, CreditedGroup> note)
    {
        var groups = note.ToList();
        var (net, tax, currency) = (groups[0].Net, groups[0].NoteTax, groups[0].Currency);
        var netShares = Split(net, groups.Select(g => g.Taxable).ToList(), currency);
        var taxShares = Split(tax, groups.Select(g => g.Tax).ToList(), currency);
        return groups.Select((g, i) => new TaxReportRow(g.Country, g.Region, g.Rate, g.ReverseCharge, currency, 0, netShares[i], taxShares[i]));
    }

    private static decimal[] Split(decimal amount, IReadOnlyList<decimal> weights, string currency)
    {
        var total = weights.Sum();
        var largest = weights.Select((w, i) => (w, i)).MaxBy(x => x.w).i;
        var shares = weights.Select(w => total == 0 ? 0 : Math.Round(amount * w / total, Currencies.MinorUnits(currency), MidpointRounding.AwayFromZero)).ToArray();
        shares[largest] += amount - shares.Sum();
        return shares;
    }

    private static IReadOnlyList<TaxReportRow> Less(List<TaxReportRow> rows, IEnumerable<TaxReportRow> credited)
    {
        foreach (var share in credited)
        {
            var i = rows.FindIndex(r => (r.Country, r.Region, r.Rate, r.ReverseCharge, r.Currency) == (share.Country, share.Region, share.Rate, share.ReverseCharge, share.Currency));
            if (i < 0) rows.Add(share with { Taxable = -share.Taxable, Tax = -share.Tax });
            else rows[i] = rows[i] with { Taxable = rows[i].Taxable - share.Taxable, Tax = rows[i].Tax - share.Tax };
        }
        return [.. rows.OrderBy(r => r.Country, StringComparer.Ordinal).ThenBy(r => r.Region ?? "", StringComparer.Ordinal).ThenBy(r => r.Currency, StringComparer.Ordinal).ThenBy(r => r.ReverseCharge).ThenBy(r => r.Rate)];
    }
}
