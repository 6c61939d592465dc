using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Subscriptions;
using BillingConsole.Domain.Tax;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine;

/// <summary>Tax by the rule table: a billing run over customers in several countries, the tax report and bad rule input.</summary>
public sealed class TaxTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("admin@example.test", "admin");

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("tax");
        // The fallback rate: places without a rule.
        _engine = EngineServices.Create(_database, settings: new Dictionary<string, string?> { ["Billing:TaxRate"] = "0.1" });
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    private static readonly DateOnly Long_ago = new(2020, 1, 1);

    private Task<TaxTableVersionView> SaveRulesAsync() =>
        _engine.InScopeAsync<TaxRuleCommands, TaxTableVersionView>(commands => commands.SaveAsync(new SaveTaxTable("DE",
        [
            new TaxRuleInput("DE", null, 19m, Long_ago),
            new TaxRuleInput("FR", null, 20m, Long_ago),
            new TaxRuleInput("CA", null, 5m, Long_ago),
            new TaxRuleInput("CA", "QC", 14.975m, Long_ago),
        ], "Rates of 2027"), Admin, Ct));

    private async Task<Customer> CustomerAsync(string country, string? region = null, string? taxId = null, string card = "pm_ok_")
    {
        var customer = new Customer($"Customer {country}", $"{Guid.NewGuid():N}@example.test", "EUR",
            new CustomerAddress("1 Rue", null, "Town", "1000", country, region), _data.Now.AddYears(-1), taxId: taxId);
        customer.AttachPaymentMethod("sandbox", card + Guid.NewGuid().ToString("N"), "visa", "4242", 12, 2030, _data.Now.AddYears(-1));
        await using var db = _database.NewContext();
        db.Customers.Add(customer);
        await db.SaveChangesAsync(Ct);
        return customer;
    }

    [Fact]
    public async Task A_billing_run_taxes_each_line_by_the_customers_country_and_the_report_reconciles_with_the_ledger()
    {
        await SaveRulesAsync();
        var (_, price) = await _data.PlanAsync(99.99m, "EUR");
        var expected = new Dictionary<Guid, (decimal Rate, bool ReverseCharge)>();
        foreach (var (country, region, taxId, rate, reverse) in new (string, string?, string?, decimal, bool)[]
                 {
                     ("DE", null, "DE123456789", 0.19m, false), ("FR", null, null, 0.20m, false), ("FR", null, "FR40303265045", 0m, true),
                     ("CA", "QC", null, 0.14975m, false), ("CA", "ON", null, 0.05m, false), ("US", null, null, 0.1m, false),
                 })
        {
            var customer = await CustomerAsync(country, region, taxId, card: country == "US" ? "pm_insufficient_funds_" : "pm_ok_");
            expected[(await _data.SubscriptionAsync(customer, price)).Id] = (rate, reverse);
        }

        await _engine.InScopeAsync<BillingRunService, Guid>(runs => runs.StartAsync(Actor.System, BillingRunTriggers.Manual, Ct));
        await _engine.RunEnqueuedChunksAsync();

        await using var db = _database.NewContext();
        var invoices = await db.Invoices.AsNoTracking().Include(i => i.Lines).Where(i => i.SubscriptionId != null).ToListAsync(Ct);
        Assert.Equal(expected.Count, invoices.Count);
        foreach (var invoice in invoices)
        {
            var (rate, reverse) = expected[invoice.SubscriptionId!.Value];
            var line = Assert.Single(invoice.Lines);
            Assert.Equal((rate, reverse), (line.TaxRate, line.ReverseCharge));
            Assert.Equal(Math.Round(99.99m * rate, 2, MidpointRounding.AwayFromZero), line.TaxAmount.Amount);
            Assert.Equal((invoice.Tax, invoice.Subtotal + invoice.Tax), (line.TaxAmount, invoice.Total));
        }

        // A void in the period takes its tax back out of both the ledger and the report.
        var unpaid = invoices.Single(i => expected[i.SubscriptionId!.Value].Rate == 0.1m);
        await _engine.InScopeAsync<InvoiceCommands, InvoiceView>(commands => commands.VoidAsync(unpaid.Id, Admin, "Issued in error", Ct));

        // A credit note in the period gives back its share of tax, in the ledger and in the report: 59.50 of the German
        // invoice's 118.99 holds 9.50 of its 19.00 tax.
        var german = invoices.Single(i => expected[i.SubscriptionId!.Value].Rate == 0.19m);
        var note = await _engine.InScopeAsync<CreditNoteCommands, CreditNoteView>(commands => commands.IssueAsync(german.Id,
            new IssueCreditNote([new CreditNoteLineInput("Service credit", 59.50m)], "goodwill"), Admin, "Outage", Ct));

        var today = DateOnly.FromDateTime(_data.Now.UtcDateTime);
        var report = await _engine.InScopeAsync<TaxReportQueries, IReadOnlyList<TaxReportRow>>(r => r.ForAsync(new JournalPeriod(today.AddDays(-1), today), Ct));
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        var taxPayable = await connection.QuerySingleAsync<decimal>(
            "select coalesce(sum(credit - debit), 0) from ledger_entries where account = 'tax_payable'");
        Assert.Equal(0, await connection.QuerySingleAsync<int>(
            "select count(*)::int from (select transaction_id from ledger_entries group by transaction_id having sum(debit) <> sum(credit)) u"));
        Assert.Equal(taxPayable, report.Sum(r => r.Tax));
        Assert.Equal(19.00m + 20.00m + 14.97m + 5.00m - 9.50m, taxPayable);
        var germany = Assert.Single(report, r => r.Country == "DE");
        Assert.Equal((99.99m - 50.00m, 19.00m - 9.50m), (germany.Taxable, germany.Tax));
        Assert.Equal((59.50m, 9.50m), (note.Total, note.Tax));
        var reverseCharged = Assert.Single(report, r => r.ReverseCharge);
        Assert.Equal(("FR", 0m, 99.99m, 0m), (reverseCharged.Country, reverseCharged.Rate, reverseCharged.Taxable, reverseCharged.Tax));
        var quebec = Assert.Single(report, r => r.Region == "QC");
        Assert.Equal((0.14975m, 14.97m), (quebec.Rate, quebec.Tax));
        var voided = Assert.Single(report, r => r.Country == "US");
        Assert.Equal((0m, 0m), (voided.Taxable, voided.Tax));

        // A customer who moves afterwards does not move the tax already reported.
        await connection.ExecuteAsync("update customers set address_country = 'US', address_region = null");
        Assert.Equal(report, await _engine.InScopeAsync<TaxReportQueries, IReadOnlyList<TaxReportRow>>(r => r.ForAsync(new JournalPeriod(today.AddDays(-1), today), Ct)));
    }

    [Fact]
    public async Task Every_change_of_the_table_is_a_new_audited_version_and_an_old_one_can_be_restored()
    {
        var first = await SaveRulesAsync();
        var second = await _engine.InScopeAsync<TaxRuleCommands, TaxTableVersionView>(c =>
            c.AddRuleAsync(new TaxRuleInput("fr", null, 21m, new DateOnly(2027, 7, 1)), null, Admin, "FR rate rises in July", Ct));
        var restored = await _engine.InScopeAsync<TaxRuleCommands, TaxTableVersionView>(c => c.RestoreAsync(1, Admin, "The rise was withdrawn", Ct));

        Assert.Equal((1, 2, 3), (first.Version, second.Version, restored.Version));
        Assert.Contains(new TaxRule("FR", null, 0.21m, new DateOnly(2027, 7, 1)), second.Table.Rules);
        Assert.Equal(first.Table.Rules, restored.Table.Rules);
        await using var db = _database.NewContext();
        Assert.Equal(["tax_table.saved", "tax_table.saved", "tax_table.restored"],
            await db.AuditLog.AsNoTracking().Where(a => a.EntityType == "tax_table").OrderBy(a => a.EntityId).Select(a => a.Action).ToListAsync(Ct));
    }

    [Theory]
    [InlineData(-5, "2027-01-01", "A tax rate is a percentage between 0 and 100.")]
    [InlineData(20, "2020-01-01", "Two rules for the same country and region start on the same day: keep one, or give the new one a later date.")]
    public async Task A_negative_rate_or_an_overlapping_rule_is_refused_with_a_sentence_and_nothing_is_written(decimal percent, string from, string message)
    {
        await SaveRulesAsync();
        var refused = await Assert.ThrowsAsync<ValidationException>(() => _engine.InScopeAsync<TaxRuleCommands, TaxTableVersionView>(c =>
            c.AddRuleAsync(new TaxRuleInput("DE", null, percent, DateOnly.Parse(from)), null, Admin, "Change", Ct)));

        Assert.Contains(message, refused.Errors.Select(e => e.ErrorMessage));
        await using var db = _database.NewContext();
        Assert.Equal((1, 1), (await db.TaxTables.CountAsync(Ct), await db.AuditLog.CountAsync(a => a.EntityType == "tax_table", Ct)));
    }

    [Fact]
    public async Task A_malformed_VAT_number_is_refused_with_its_shape_and_no_customer_is_written()
    {
        var refused = await Assert.ThrowsAsync<ValidationException>(() => _engine.InScopeAsync<CustomerCommands, CustomerView>(c =>
            c.CreateAsync(new CreateCustomer("Acme", "acme@example.test", "EUR", new AddressInput("1 Rue", null, "Paris", "75001", "FR"), null,
                TaxId: "FR123"), Admin, "New customer", Ct)));

        Assert.Equal("FR123 is not a VAT number of FR: after FR come 2 letters or digits and 9 digits.", Assert.Single(refused.Errors).ErrorMessage);
        await using var db = _database.NewContext();
        Assert.False(await db.Customers.AnyAsync(Ct));
    }
}
