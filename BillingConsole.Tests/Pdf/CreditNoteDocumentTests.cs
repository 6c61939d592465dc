using BillingConsole.Domain.Customers;
using BillingConsole.Pdf;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Tests.Pdf.InvoiceSamples;

namespace BillingConsole.Tests.Pdf;

[PureTests]
public sealed class CreditNoteDocumentTests
{
    private static CreditNoteDetail Note(string settlement, string? memo = null, params (string Description, decimal Amount)[] lines) =>
        new(Guid.NewGuid(), "CN-000042", Guid.NewGuid(), "INV-001234", Guid.NewGuid(), "Acme Robotics GmbH", "ap@acme-robotics.example", "DE123456789",
            "EUR", lines.Sum(l => l.Amount), "product_unsatisfactory", settlement, memo, new DateTimeOffset(2027, 3, 20, 9, 30, 0, TimeSpan.Zero))
        {
            CustomerAddress = new CustomerAddress("Invalidenstraße 116", null, "Berlin", "10115", "DE"),
            Lines = [.. lines.Select(l => new CreditNoteLineRow(l.Description, l.Amount))],
        };

    private static RenderedPdf Render(CreditNoteDetail note, string keepAs)
    {
        var bytes = CreditNoteDocument.Render(note, Billing, Calendar);
        if (Environment.GetEnvironmentVariable("INVOICE_PDF_DIR") is { Length: > 0 } directory)
            File.WriteAllBytes(Path.Combine(directory, keepAs + ".pdf"), bytes);
        return RenderedPdf.Read(bytes);
    }

    [Fact]
    public void A_credit_note_names_the_invoice_the_reason_its_lines_and_what_was_done_with_the_amount()
    {
        var pdf = Render(Note("refunded", "Two seats were never used; refunded as agreed on the phone.",
            ("Refund of the payment of invoice INV-001234", 98m), ("Unused seats, March", 12.5m)), "credit-note-refund");

        Assert.Single(pdf.Pages);
        InvoiceDocumentTests.Shows(pdf, "CREDIT NOTE", "Credit noteCN-000042", "InvoiceINV-001234", "ReasonProduct unsatisfactory",
            "Issue date20 Mar 2027", "Northwind Analytics Ltd", "CREDIT TO", "Acme Robotics GmbH", "10115 Berlin", "Germany",
            "VAT number DE123456789", "Refund of the payment of invoice INV-001234€98.00", "Unused seats, March€12.50", "Total credited€110.50",
            "Two seats were never used", "€110.50 has been refunded to the payment method that paid invoice INV-001234", "Page 1 of 1");
    }

    [Theory]
    [InlineData("amount_due_reduced", "has been taken off what is due on invoice INV-001234")]
    [InlineData("customer_credited", "has been added to your account credit")]
    public void The_footer_says_where_the_amount_went(string settlement, string sentence) =>
        InvoiceDocumentTests.Shows(Render(Note(settlement, null, ("Goodwill for the outage", 5m)), $"credit-note-{settlement}"), sentence);

    [Fact]
    public void A_credit_note_says_which_rates_its_amounts_include_or_carries_the_reverse_charge_mention()
    {
        var taxed = Note("customer_credited", "A long memo about the credit, " + string.Concat(Enumerable.Repeat("kept in full on the page, ", 8)),
            ("Goodwill for the outage", 5m)) with { InvoiceTaxes = [new CreditedTax(0.19m, false), new CreditedTax(0.07m, false)] };
        var reverse = Note("customer_credited", null, ("Goodwill for the outage", 5m)) with { InvoiceTaxes = [new CreditedTax(0m, true)] };

        InvoiceDocumentTests.Shows(Render(taxed, "credit-note-rates"), "Amounts include VAT at 19%, 7%, as on invoice INV-001234.", "kept in full on the page");
        var pdf = Render(reverse, "credit-note-reverse-charge");
        InvoiceDocumentTests.Shows(pdf, BillingConsole.Domain.Tax.TaxTable.ReverseChargeMention, "VAT number DE123456789");
        Assert.DoesNotContain("…", pdf.Squeezed);
    }
}
