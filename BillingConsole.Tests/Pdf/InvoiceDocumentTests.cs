using System.Text.RegularExpressions;
using BillingConsole.Domain.Common;
using BillingConsole.Pdf;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using static BillingConsole.Tests.Pdf.InvoiceSamples;

namespace BillingConsole.Tests.Pdf;

[PureTests]
public sealed partial class InvoiceDocumentTests
{
    [Fact]
    public void An_invoice_shows_seller_buyer_every_line_and_the_totals()
    {
        var invoice = Upgrade();

        var pdf = Render(invoice, "invoice-upgrade");

        Assert.Single(pdf.Pages);
        Shows(pdf, "INVOICE", "INV-001234", "Northwind Analytics Ltd", "1 Ledger Lane", "Tax ID GB 123 4567 89", "Acme Robotics Inc",
            "ap@acme-robotics.example", "500 Market Street", "Suite 1200", "San Francisco 94105", "United States",
            "Issue date1 Mar 2027", "Due date15 Mar 2027", "Period1 Mar – 1 Apr 2027", "PAID", "Page 1 of 1");
        ShowsEveryLine(pdf, invoice);
        Assert.Contains("-$44.11", pdf.Words);
        Shows(pdf,
            "Unused time on Starter after 16 Feb 2027Proration credit",
            "Remaining time on Growth after 16 Feb 2027Proration charge",
            "Subtotal$664.64",
            "Tax 20%$132.93",
            "Total$797.57",
            "Credit applied-$25.00",
            "Amount paid-$772.57Received 3 Mar 2027 · Ref. ch_3PqR8sT2xYzA7bC",
            "Amount due$0.00");
    }

    [Fact]
    public void An_open_invoice_asks_for_payment_and_carries_no_stamp()
    {
        var invoice = Build("USD", [Line("recurring", "Growth plan", 2, 49m, 98m)], taxRate: 0.2m, credit: 0m, status: "open");

        var pdf = Render(invoice);

        Shows(pdf, "Amount due$117.60", "Please pay $117.60 by 15 Mar 2027", "quote INV-001234 as the payment reference", "Net 14 days");
        Assert.False(pdf.Contains("PAID"));
        Assert.False(pdf.Contains("VOID"));
    }

    [Theory]
    [InlineData("void", "VOID")]
    [InlineData("uncollectible", "UNCOLLECTIBLE")]
    [InlineData("paid", "PAID")]
    public void Settled_and_abandoned_invoices_are_stamped(string status, string stamp)
    {
        var invoice = Build("USD", [Line("recurring", "Growth plan", 1, 49m, 49m)], taxRate: 0m, credit: 0m, status: status);

        var pdf = Render(invoice, $"invoice-{status}");

        Shows(pdf, stamp);
    }

    [Fact]
    public void An_uncollectible_invoice_still_shows_what_the_customer_owes()
    {
        var invoice = Build("USD", [Line("recurring", "Growth plan", 1, 49m, 49m)], taxRate: 0m, credit: 0m, status: "uncollectible");

        var pdf = Render(invoice);

        Shows(pdf, "Amount due$49.00");
    }

    [Fact]
    public void Sixty_lines_flow_over_several_pages_with_every_line_and_page_numbers()
    {
        var invoice = ManyLines(60);

        var pdf = Render(invoice, "invoice-60-lines");

        var pages = pdf.Pages.Count;
        Assert.True(pages >= 2, $"{pages} page(s)");
        for (var number = 1; number <= pages; number++)
            Assert.Contains(RenderedPdf.Squeeze($"Page {number} of {pages}"), pdf.Pages[number - 1].Squeezed);
        Assert.Contains(RenderedPdf.Squeeze("Invoice INV-001234 (continued)"), pdf.Pages[1].Squeezed);
        Assert.Contains("DESCRIPTION", pdf.Pages[1].Words);
        ShowsEveryLine(pdf, invoice);
        Assert.Contains(RenderedPdf.Squeeze($"Amount due{Format(invoice.AmountDue, "USD")}"), pdf.Pages[^1].Squeezed);
    }

    public static TheoryData<int> LineCounts => new(Enumerable.Range(16, 14));

    [Theory]
    [MemberData(nameof(LineCounts))]
    public void Totals_stay_together_with_the_last_line_wherever_a_page_ends(int count)
    {
        var invoice = ManyLines(count);

        var pdf = Render(invoice, $"invoice-{count}-lines");

        var totals = Assert.Single(pdf.Pages, page => page.Squeezed.Contains("Subtotal"));
        Assert.Same(pdf.Pages[^1], totals);
        Assert.Contains("Amountdue", totals.Squeezed);
        Assert.Contains(RenderedPdf.Squeeze(invoice.Lines[^1].Description), totals.Squeezed);
        foreach (var page in pdf.Pages) AssertLaidOutCleanly(page);
    }

    [Fact]
    public void Yen_amounts_have_no_minor_units()
    {
        var invoice = Build("JPY", [Line("recurring", "Growth plan", 3, 1200m, 3600m), ProrationCredit(980m, -455m)],
            taxRate: 0.1m, credit: 500m, status: "open");

        var pdf = Render(invoice, "invoice-jpy");

        Assert.Contains("¥1,200", pdf.Words);
        Assert.Contains("¥3,600", pdf.Words);
        Assert.Contains("-¥455", pdf.Words);
        Shows(pdf, "Tax 10%¥315", "Credit applied-¥500", "Amount due¥2,960");
        Assert.Empty(YenWithDecimals().Matches(pdf.Squeezed));
    }

    [Fact]
    public void Euro_amounts_carry_the_symbol_and_negative_credits_a_minus_sign()
    {
        var invoice = Build("EUR", [Line("recurring", "Growth plan", 1, 1234.5m, 1234.5m), ProrationCredit(26m, -12m)],
            taxRate: 0.2m, credit: 0m, status: "open");

        var pdf = Render(invoice);

        Assert.Contains("€1,234.50", pdf.Words);
        Assert.Contains("-€12.00", pdf.Words);
        Shows(pdf, "Subtotal€1,222.50", "Tax 20%€244.50", "Amount due€1,467.00");
    }

    [Fact]
    public void The_tax_rate_is_read_from_the_invoice_not_from_the_configured_rate()
    {
        var invoice = Build("USD", [Line("recurring", "Growth plan", 3, 33.3m, 99.9m)], taxRate: 0.0825m, credit: 0m, status: "open");

        var pdf = Render(invoice);

        Assert.Equal(0.2m, Billing.TaxRate);
        Shows(pdf, "Subtotal$99.90", "Tax 8.25%$8.24");
    }

    [Fact]
    public void A_customer_in_a_vat_country_is_charged_vat_and_shows_their_vat_number()
    {
        var invoice = Build("EUR", [Line("recurring", "Growth plan", 1, 49m, 49m)], taxRate: 0.2m, credit: 0m, status: "open") with
        {
            CustomerAddress = new("Friedrichstraße 100", null, "Berlin", "10117", "DE"),
            CustomerTaxId = "DE123456789",
        };

        var pdf = Render(invoice, "invoice-vat");

        Shows(pdf, "VAT number DE123456789", "VAT 20%€9.80", "10117 Berlin", "Germany");
    }

    [Fact]
    public void A_customer_elsewhere_shows_a_tax_id_and_none_when_they_have_none()
    {
        var invoice = Build("USD", [Line("recurring", "Growth plan", 1, 49m, 49m)], taxRate: 0.2m, credit: 0m, status: "open");

        Assert.False(Render(invoice).Contains("Tax ID 12"));
        Shows(Render(invoice with { CustomerTaxId = "12-3456789" }), "Tax ID 12-3456789", "Tax 20%$9.80");
    }

    [Fact]
    public void Fonts_are_embedded_and_none_is_one_of_the_standard_14()
    {
        var pdf = Render(Upgrade());

        var fonts = pdf.Pages.SelectMany(p => p.Fonts).ToList();
        Assert.NotEmpty(fonts);
        Assert.All(fonts, font =>
        {
            Assert.True(font.Embedded, $"{font.BaseFont} is not embedded");
            Assert.False(font.Standard14, $"{font.BaseFont} is a standard 14 font");
            Assert.Contains("DejaVu Sans", font.BaseFont);
        });
    }

    [Fact]
    public void Long_descriptions_stay_in_their_column_and_no_text_overlaps()
    {
        var invoice = Build("USD",
        [
            Line("one_off", "Professional services: " + string.Join(' ', Enumerable.Repeat("data migration and reconciliation of historical ledgers", 6)), 1, 900m, 900m),
            Line("one_off", "Reference " + new string('X', 120), 1, 10m, 10m),
            Line("recurring", "Growth plan", 1, 1_234_567.89m, 1_234_567.89m),
        ], taxRate: 0.2m, credit: 0m, status: "open");

        var pdf = Render(invoice, "invoice-long");

        foreach (var line in invoice.Lines) Shows(pdf, line.Description);
        Assert.DoesNotContain("…", pdf.Squeezed);
        Assert.Contains("$1,234,567.89", pdf.Words);
        foreach (var page in pdf.Pages) AssertLaidOutCleanly(page);
    }

    [Fact]
    public void Pages_of_a_long_invoice_have_no_overlapping_text()
    {
        var pdf = Render(ManyLines(60));

        foreach (var page in pdf.Pages) AssertLaidOutCleanly(page);
    }

    /// <summary>Every glyph inside the margins and clear of the footer's rule, and no two pieces of text drawn over each other.</summary>
    internal static void AssertLaidOutCleanly(PageContent page)
    {
        var letters = page.Letters.Where(l => !string.IsNullOrWhiteSpace(l.Value)).ToList();
        foreach (var letter in letters)
        {
            var box = letter.BoundingBox;
            Assert.True(box.Left >= PdfCanvas.Margin - 1 && box.Right <= page.Width - PdfCanvas.Margin + 1,
                $"'{letter.Value}' at x {box.Left:0.0}–{box.Right:0.0} is outside the margins");
            // PDF coordinates run upwards from the bottom of the page, where the footer is.
            Assert.True(box.Top < PdfCanvas.FooterHeight || box.Bottom > PdfCanvas.FooterHeight,
                $"'{letter.Value}' at y {box.Bottom:0.0} crosses the footer's rule");
        }
        for (var i = 0; i < letters.Count; i++)
        for (var j = i + 1; j < letters.Count; j++)
        {
            // Letters drawn by one text operation are one word or phrase; only separate pieces of text must keep apart.
            if (letters[i].TextSequence == letters[j].TextSequence) continue;
            var (a, b) = (letters[i].BoundingBox, letters[j].BoundingBox);
            var overlapX = Math.Min(a.Right, b.Right) - Math.Max(a.Left, b.Left);
            var overlapY = Math.Min(a.Top, b.Top) - Math.Max(a.Bottom, b.Bottom);
            Assert.False(overlapX > 0.5 && overlapY > 0.5,
                $"'{letters[i].Value}' and '{letters[j].Value}' overlap at ({a.Left:0.0}, {a.Bottom:0.0})");
        }
    }

    internal static void Shows(RenderedPdf pdf, params string[] texts)
    {
        foreach (var text in texts) Assert.True(pdf.Contains(text), $"'{text}' is not in the PDF");
    }

    private static void ShowsEveryLine(RenderedPdf pdf, InvoiceDetail invoice)
    {
        foreach (var line in invoice.Lines)
        {
            Shows(pdf, line.Description);
            Assert.Contains(Format(line.Amount, invoice.Currency), pdf.Words);
        }
    }

    private static string Format(decimal amount, string currency) => Currencies.Format(new Money(amount, currency));

    /// <summary>Renders and reads back; with INVOICE_PDF_DIR set, also keeps the file there to look at.</summary>
    internal static RenderedPdf Render(InvoiceDetail invoice, string? keepAs = null)
    {
        var bytes = InvoiceDocument.Render(invoice, Billing, Calendar);
        if (keepAs is not null && Environment.GetEnvironmentVariable("INVOICE_PDF_DIR") is { Length: > 0 } directory)
            File.WriteAllBytes(Path.Combine(directory, keepAs + ".pdf"), bytes);
        return RenderedPdf.Read(bytes);
    }

    [GeneratedRegex(@"¥[\d,]+\.\d")]
    private static partial Regex YenWithDecimals();
}
