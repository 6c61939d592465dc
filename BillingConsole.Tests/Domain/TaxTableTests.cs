using BillingConsole.Domain.Common;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Tax;
using BillingConsole.Engine;
using BillingConsole.Tests.Infrastructure;

namespace BillingConsole.Tests.Domain;

[PureTests]
public sealed class TaxTableTests
{
    private static readonly DateOnly Jan2027 = new(2027, 1, 1);

    private static readonly TaxTable Table = new("DE",
    [
        new TaxRule("DE", null, 0.19m, new DateOnly(2020, 1, 1)),
        new TaxRule("FR", null, 0.20m, new DateOnly(2020, 1, 1)),
        new TaxRule("FR", null, 0.21m, new DateOnly(2027, 7, 1)),
        new TaxRule("CA", null, 0.05m, new DateOnly(2020, 1, 1)),
        new TaxRule("CA", "QC", 0.14975m, new DateOnly(2020, 1, 1)),
    ]);

    private static LineTax For(string country, string? region = null, string? taxId = null, DateOnly? on = null) =>
        Table.For(new TaxPayer(country, region, taxId), on ?? Jan2027, fallbackRate: 0.07m);

    [Fact]
    public void A_country_pays_its_rule_and_a_place_without_one_the_fallback() =>
        Assert.Equal((0.19m, 0.20m, 0.07m), (For("DE").Rate, For("FR").Rate, For("US").Rate));

    [Fact]
    public void A_region_with_a_rule_pays_it_and_another_region_its_countrys() =>
        Assert.Equal((0.14975m, 0.05m, 0.05m), (For("CA", "QC").Rate, For("CA", "ON").Rate, For("ca", null).Rate));

    [Fact]
    public void A_later_rule_applies_from_its_date_and_not_before() =>
        Assert.Equal((0.20m, 0.21m, 0.07m),
            (For("FR", on: new DateOnly(2027, 6, 30)).Rate, For("FR", on: new DateOnly(2027, 7, 1)).Rate, For("DE", on: new DateOnly(2019, 12, 31)).Rate));

    [Fact]
    public void An_EU_business_in_another_member_state_is_reverse_charged_at_zero()
    {
        Assert.Equal(new LineTax(0m, true), For("FR", taxId: "FR 40 303 265 045"));
        Assert.Equal(new LineTax(0m, true), For("GR", taxId: "EL123456789"));
    }

    [Theory]
    [InlineData("DE", "DE123456789")]   // the seller's own country pays its VAT
    [InlineData("FR", null)]            // a consumer
    [InlineData("FR", "DE123456789")]   // another country's number
    [InlineData("FR", "FR123")]         // malformed
    [InlineData("US", "12-3456789")]    // outside the EU
    public void Others_are_not_reverse_charged(string country, string? taxId) => Assert.False(For(country, taxId: taxId).ReverseCharge);

    [Fact]
    public void Without_a_seller_country_nobody_is_reverse_charged() =>
        Assert.False((Table with { SellerCountry = "" }).For(new TaxPayer("FR", null, "FR40303265045"), Jan2027, 0m).ReverseCharge);

    [Theory]
    [InlineData("DE123456789")]
    [InlineData("ATU12345678")]
    [InlineData("NL123456789B01")]
    [InlineData("FR40303265045")]
    [InlineData("IE1234567T")]
    [InlineData("GB123456789")]   // not an EU prefix: the general check only
    [InlineData("12-3456789")]
    public void Well_formed_tax_numbers_are_accepted(string taxId) => Assert.Null(VatNumbers.Problem(taxId));

    [Theory]
    [InlineData("DE12345678", "DE12345678 is not a VAT number of DE: after DE come 9 digits.")]
    [InlineData("ATU1234", "ATU1234 is not a VAT number of AT: after AT come U and 8 digits.")]
    [InlineData("EL12", "EL12 is not a VAT number of GR: after EL come 9 digits.")]
    public void A_malformed_EU_VAT_number_is_refused_with_its_shape(string taxId, string problem)
    {
        Assert.Equal(problem, VatNumbers.Problem(taxId));
        Assert.Equal(problem, Assert.Throws<DomainRuleException>(() => new BillingConsole.Domain.Customers.Customer("A", "a@example.test", "EUR",
            BillingConsole.Domain.Customers.CustomerAddress.Empty, Build.T0, taxId: taxId)).Message);
    }

    [Fact]
    public void A_table_with_a_negative_rate_or_two_rules_for_one_place_and_day_is_refused()
    {
        var bad = new TaxTable("DE", [new TaxRule("DE", null, -0.01m, Jan2027), new TaxRule("FR", null, 0.2m, Jan2027), new TaxRule("FR", null, 0.21m, Jan2027)]);
        Assert.Equal(["The rate for DE from 2027-01-01 is -1 %: a rate is between 0 % and 100 %.", "Two rules for FR start on 2027-01-01: keep one."], bad.Problems());
        Assert.Throws<DomainRuleException>(() => new TaxTableVersion(1, bad, "admin", "test", DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void Each_line_is_taxed_at_its_own_rate_and_the_shares_add_up_to_the_invoice_tax()
    {
        var tax = new InvoiceTax(Table, new TaxPayer("FR", null, null), 0m);
        var june = new DateTimeOffset(2027, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var july = june.AddMonths(1);
        InvoiceLineDraft Line(decimal amount, DateTimeOffset start) =>
            new(InvoiceLineKind.OneOff, "Line", 1, new Money(amount, "EUR"), new Money(amount, "EUR"), start, start.AddMonths(1), null);
        var invoice = GeneratedInvoice.Create(Guid.NewGuid(), null, InvoiceKind.OneOff, "EUR", june, july.AddMonths(1),
            [Line(10.05m, june), Line(10.05m, june), Line(33.33m, july)], Money.Zero("EUR"), tax);

        Assert.Equal([0.20m, 0.20m, 0.21m], invoice.Lines.Select(l => l.Tax!.Rate));
        // 20 % of 20.10 is 4.02 (each line's 2.01); 21 % of 33.33 is 6.9993 → 7.00.
        Assert.Equal([2.01m, 2.01m, 7.00m], invoice.Lines.Select(l => l.Tax!.Amount.Amount));
        Assert.Equal(11.02m, invoice.Tax.Amount);
        Assert.Equal(invoice.Tax, invoice.ToInvoice(june).Lines.Aggregate(Money.Zero("EUR"), (sum, l) => sum + l.TaxAmount));
    }

    [Fact]
    public void Rounding_differences_go_to_the_largest_line_so_one_rate_taxes_the_subtotal_as_before()
    {
        InvoiceLineDraft Line(decimal amount) =>
            new(InvoiceLineKind.OneOff, "Line", 1, new Money(amount, "USD"), new Money(amount, "USD"), Build.T0, Build.T0.AddMonths(1), null);
        // Each 0.025 × 20 % = 0.005 rounds to 0.01, three times 0.03; the subtotal 0.075 × 20 % = 0.015 rounds to 0.02.
        var invoice = GeneratedInvoice.Create(Guid.NewGuid(), null, InvoiceKind.OneOff, "USD", Build.T0, Build.T0, [Line(0.025m), Line(0.025m), Line(0.025m)],
            Money.Zero("USD"), InvoiceTax.Flat(0.2m));
        Assert.Equal(0.02m, invoice.Tax.Amount);
        Assert.Equal(0.02m, invoice.Lines.Sum(l => l.Tax!.Amount.Amount));
    }

    [Fact]
    public void A_reverse_charged_invoice_has_no_tax_and_says_so_on_every_line()
    {
        var tax = new InvoiceTax(Table, new TaxPayer("NL", null, "NL123456789B01"), 0.07m);
        var invoice = GeneratedInvoice.Create(Guid.NewGuid(), null, InvoiceKind.OneOff, "EUR", Build.T0, Build.T0,
            [new(InvoiceLineKind.OneOff, "Line", 1, new Money(100m, "EUR"), new Money(100m, "EUR"), Build.T0, Build.T0.AddMonths(1), null)],
            Money.Zero("EUR"), tax);
        Assert.Equal((0m, true), (invoice.Tax.Amount, invoice.ToInvoice(Build.T0).Lines.Single().ReverseCharge));
    }
}
